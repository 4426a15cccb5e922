package dev.forecaster.schemas;

import dev.forecaster.schemas.RecordDecodingException.Reason;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Encodes and decodes one contract type with Avro single-object encoding: the marker {@code C3 01},
 * the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema, then the binary record. A
 * reader resolves any writer schema it knows (the current one and the older versions in {@link
 * SchemaHistory}), so contracts evolve by adding fields with defaults and no registry service is
 * needed.
 *
 * <p>Thread-safe: Avro's datum readers and writers keep per-thread state themselves.
 *
 * <p>Decoding runs over a byte-array decoder that knows how many bytes remain, so a garbage length
 * in corrupt bytes fails at once instead of allocating what it claims.
 */
public final class AvroCodec<T extends SpecificRecord> {

  static {
    TrustedPackages.ensureContractsTrusted();
  }

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = (byte) 0x01;
  private static final int HEADER_LENGTH = 10;

  private final Class<T> type;
  private final Schema schema;
  private final SpecificData model;
  private final byte[] header;
  private final SpecificDatumWriter<T> writer;

  /** Records larger than this (model artifacts) do not set the size of every next buffer. */
  private static final int MAX_BUFFER_HINT = 4096;

  /**
   * The largest record encoded so far (up to {@link #MAX_BUFFER_HINT}), in bytes: the next one's
   * buffer starts this big instead of growing (copying) from a guess, once per record of every
   * forecast and evaluation.
   */
  private volatile int largestEncoded = 128;

  private final Map<Long, SpecificDatumReader<T>> readersByFingerprint = new ConcurrentHashMap<>();

  private AvroCodec(Class<T> type, Collection<Schema> olderWriterSchemas) {
    this.type = type;
    this.model = SpecificData.getForClass(type);
    this.schema = model.getSchema(type);
    TrustedPackages.verify(type);
    this.header = headerFor(schema);
    this.writer = new SpecificDatumWriter<>(schema, model);
    addWriterSchema(schema);
    olderWriterSchemas.forEach(this::addWriterSchema);
  }

  /** A codec for a generated contract class that also reads the versions in the schema history. */
  public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
    return new AvroCodec<>(type, SchemaHistory.olderVersionsOf(schemaOf(type).getFullName()));
  }

  /** A codec that knows only the given older writer schemas besides the current one. */
  public static <T extends SpecificRecord> AvroCodec<T> of(
      Class<T> type, Collection<Schema> olderWriterSchemas) {
    return new AvroCodec<>(type, List.copyOf(olderWriterSchemas));
  }

  private static Schema schemaOf(Class<?> type) {
    return SpecificData.getForClass(type).getSchema(type);
  }

  public Schema schema() {
    return schema;
  }

  public Class<T> type() {
    return type;
  }

  /** The CRC-64-AVRO fingerprint of a schema's parsing canonical form, as in the header. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  private void addWriterSchema(Schema writerSchema) {
    if (!writerSchema.getFullName().equals(schema.getFullName())) {
      throw new IllegalArgumentException(
          "writer schema "
              + writerSchema.getFullName()
              + " is not a version of "
              + schema.getFullName());
    }
    readersByFingerprint.computeIfAbsent(
        fingerprint(writerSchema), fp -> new SpecificDatumReader<>(writerSchema, schema, model));
  }

  public byte[] encode(T record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(largestEncoded);
    out.writeBytes(header);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      writer.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot encode " + schema.getName() + " (writing to memory)", e);
    }
    if (out.size() > largestEncoded && out.size() <= MAX_BUFFER_HINT) {
      largestEncoded = out.size(); // a racing smaller value only costs a buffer's growth
    }
    return out.toByteArray();
  }

  public T decode(byte[] bytes) throws RecordDecodingException {
    String name = schema.getName();
    if (bytes == null || bytes.length == 0) {
      throw new RecordDecodingException(Reason.EMPTY, "no bytes to decode as " + name);
    }
    if (bytes.length < 2 || bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
      throw new RecordDecodingException(
          Reason.BAD_HEADER,
          "not Avro single-object encoding (expected marker c301, got "
              + HexFormat.of().formatHex(bytes, 0, Math.min(2, bytes.length))
              + "): the producer must write "
              + name
              + " with this project's codec");
    }
    if (bytes.length < HEADER_LENGTH) {
      throw new RecordDecodingException(
          Reason.TRUNCATED,
          "header cut short: " + bytes.length + " bytes, a header has " + HEADER_LENGTH);
    }
    long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    SpecificDatumReader<T> reader = readersByFingerprint.get(fingerprint);
    if (reader == null) {
      throw new RecordDecodingException(
          Reason.UNKNOWN_SCHEMA,
          String.format(
              "unknown writer schema fingerprint %016x for %s: not a known version of the schema"
                  + " (a newer producer? add its schema to schema-history)",
              fingerprint, name));
    }
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH, null);
    T record;
    try {
      record = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new RecordDecodingException(
            Reason.CORRUPT, "trailing bytes after a complete " + name);
      }
    } catch (EOFException e) {
      throw new RecordDecodingException(
          Reason.TRUNCATED, name + " ends early: " + e.getMessage(), e);
    } catch (IOException
        | AvroRuntimeException
        | UnsupportedOperationException
        | IndexOutOfBoundsException
        | IllegalArgumentException
        | ClassCastException
        | NegativeArraySizeException e) {
      // AvroRuntimeException covers bad union indexes, negative lengths and limit breaches.
      throw new RecordDecodingException(Reason.CORRUPT, "corrupt " + name + ": " + e, e);
    }
    return record;
  }

  private static byte[] headerFor(Schema schema) {
    return ByteBuffer.allocate(HEADER_LENGTH)
        .order(ByteOrder.LITTLE_ENDIAN)
        .put(MARKER_0)
        .put(MARKER_1)
        .putLong(fingerprint(schema))
        .array();
  }
}
