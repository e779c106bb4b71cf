package io.slidestream.types;

import java.io.ByteArrayOutputStream;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;

/** The encode and decode buffers one {@link AvroSerializer} reuses across records. */
final class ReusableBuffers {
    /** Exposes its array so a record is written out without another copy. */
    static final class Output extends ByteArrayOutputStream {
        Output() {
            super(512);
        }

        byte[] array() {
            return buf;
        }
    }

    final Output out = new Output();
    private BinaryEncoder encoder;
    private BinaryDecoder decoder;
    private byte[] in = new byte[512];

    BinaryEncoder encoder() {
        // A direct encoder writes straight to the stream: nothing is left in an encoder buffer.
        encoder = EncoderFactory.get().directBinaryEncoder(out, encoder);
        return encoder;
    }

    byte[] readBuffer(int length) {
        if (length < 0) {
            throw new IllegalStateException(
                    "negative record length " + length + ": the stream is not AvroSerializer data");
        }
        if (in.length < length) {
            in = new byte[Math.max(length, in.length * 2)];
        }
        return in;
    }

    BinaryDecoder decoder(byte[] bytes, int length) {
        decoder = DecoderFactory.get().binaryDecoder(bytes, 0, length, decoder);
        return decoder;
    }
}
