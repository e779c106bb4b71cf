/** Event, table and collection schemas of SlideStream, each defined once. */
package io.slidestream.schemas;
