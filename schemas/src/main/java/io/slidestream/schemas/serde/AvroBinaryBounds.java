package io.slidestream.schemas.serde;

import java.util.List;
import org.apache.avro.Schema;

/**
 * Walks one Avro binary record against its writer schema before anything is decoded, checking every
 * length and count against the bytes that are really there. Avro's own decoder reads zeros past the
 * end of a byte array instead of failing, so a record declaring a map of 2^60 entries or a string
 * of a gigabyte in 20 bytes would make it allocate until the JVM runs out of memory (found by
 * {@code EventDecodersFuzzTest}): here a string or bytes value longer than the rest of the record,
 * a map with more entries than bytes left, or more than {@value #MAX_ITEMS} collection items in all
 * are refused. Allocates nothing.
 */
final class AvroBinaryBounds {
    /** What does not fit; {@code outOfBytes} when it needs more bytes than the record has. */
    static final class Violation extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean outOfBytes;

        Violation(String message, boolean outOfBytes) {
            super(message);
            this.outOfBytes = outOfBytes;
        }
    }

    /** Most array and map items one record may hold (zero-byte items, such as nulls, included). */
    static final long MAX_ITEMS = 1 << 20;

    private final byte[] bytes;
    private final int end;
    private int pos;
    private long items;

    private AvroBinaryBounds(byte[] bytes, int offset, int length) {
        this.bytes = bytes;
        this.pos = offset;
        this.end = offset + length;
    }

    /**
     * Walks the record of {@code schema} in {@code length} bytes from {@code offset}.
     *
     * @return the bytes left after the record (0 for exactly one record)
     * @throws Violation saying what does not fit
     */
    static int walk(Schema schema, byte[] bytes, int offset, int length) throws Violation {
        AvroBinaryBounds walk = new AvroBinaryBounds(bytes, offset, length);
        walk.value(schema);
        return walk.end - walk.pos;
    }

    private void value(Schema s) throws Violation {
        switch (s.getType()) {
            case NULL -> {}
            case BOOLEAN -> skip(1, "a boolean");
            case INT, LONG -> varLong();
            case FLOAT -> skip(4, "a float");
            case DOUBLE -> skip(8, "a double");
            case FIXED -> skip(s.getFixedSize(), "a fixed of " + s.getFixedSize() + " bytes");
            case STRING, BYTES -> {
                long n = varLong();
                if (n < 0 || n > end - pos) {
                    throw new Violation(
                            "a "
                                    + s.getType().getName()
                                    + " declares "
                                    + n
                                    + " bytes where "
                                    + (end - pos)
                                    + " are left",
                            true);
                }
                pos += (int) n;
            }
            case ENUM -> index(s.getEnumSymbols().size(), "enum symbol");
            case UNION -> {
                List<Schema> types = s.getTypes();
                value(types.get(index(types.size(), "union branch")));
            }
            case RECORD -> {
                for (Schema.Field f : s.getFields()) {
                    value(f.schema());
                }
            }
            case ARRAY -> blocks(s.getElementType(), false);
            case MAP -> blocks(s.getValueType(), true);
        }
    }

    /** Array or map blocks: a count (negative: followed by the block's size), items, until 0. */
    private void blocks(Schema item, boolean map) throws Violation {
        while (true) {
            long count = varLong();
            if (count == 0) {
                return;
            }
            if (count < 0) {
                count = -count;
                varLong(); // the block's size in bytes, which a reader may use to skip it
            }
            // A map entry has at least its key's length byte.
            if (count < 0 || (map && count > end - pos) || items + count > MAX_ITEMS) {
                throw new Violation(
                        "a"
                                + (map ? " map" : "n array")
                                + " declares "
                                + count
                                + " items where "
                                + (end - pos)
                                + " bytes are left (at most "
                                + MAX_ITEMS
                                + " items in all)",
                        true);
            }
            items += count;
            for (long i = 0; i < count; i++) {
                if (map) {
                    value(Schema.create(Schema.Type.STRING));
                }
                value(item);
            }
        }
    }

    private int index(int size, String what) throws Violation {
        long i = varLong();
        if (i < 0 || i >= size) {
            throw new Violation(
                    what + " " + i + " does not exist (the schema has " + size + ")", false);
        }
        return (int) i;
    }

    private void skip(int n, String what) throws Violation {
        if (n > end - pos) {
            throw new Violation(
                    what + " needs " + n + " bytes where " + (end - pos) + " are left", true);
        }
        pos += n;
    }

    /** Avro's zig-zag variable-length long, at most 10 bytes, all of them present. */
    private long varLong() throws Violation {
        long raw = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw new Violation("it ends inside a number", true);
            }
            int b = bytes[pos++] & 0xFF;
            raw |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new Violation("a number is longer than 10 bytes", false);
    }
}
