package dev.forecaster.schemas;

/** Bytes that could not be decoded into a contract record; {@link #reason()} says what kind. */
public final class RecordDecodingException extends Exception {

  /** What was wrong with the bytes. */
  public enum Reason {
    /** Null or empty bytes. */
    EMPTY,
    /** Not Avro single-object encoding: the two-byte marker is missing. */
    BAD_HEADER,
    /** The writer schema's fingerprint is not one this reader knows. */
    UNKNOWN_SCHEMA,
    /** The bytes end before the record does. */
    TRUNCATED,
    /**
     * The bytes do not form a record of the writer schema (bad lengths, bad union index, trailing
     * bytes).
     */
    CORRUPT
  }

  private final Reason reason;

  public RecordDecodingException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public RecordDecodingException(Reason reason, String message) {
    this(reason, message, null);
  }

  public Reason reason() {
    return reason;
  }
}
