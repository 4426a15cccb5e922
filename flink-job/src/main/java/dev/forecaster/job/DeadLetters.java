package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.schemas.Codecs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.OutputTag;

/**
 * Builds dead letters; every operator that rejects input names its own tag next to itself. A dead
 * letter always fits on a stock Kafka topic (1 MiB): a value or key larger than {@link
 * #MAX_KEPT_BYTES} is kept by its start, with its size and SHA-256, so that no record can fail the
 * dead-letter sink and restart the job.
 */
public final class DeadLetters {

  /** The most bytes of a rejected value (and of its key) a dead letter carries. */
  public static final int MAX_KEPT_BYTES = 64 * 1024;

  /** The longest reason kept. */
  static final int MAX_REASON_CHARS = 2048;

  private DeadLetters() {}

  static OutputTag<DeadLetter> tag(String id) {
    return new OutputTag<>(id, new AvroTypeInfo<>(DeadLetter.class));
  }

  static DeadLetter of(RawRecord raw, String category, String reason) {
    boolean valueCut = raw.value != null && raw.value.length > MAX_KEPT_BYTES;
    boolean keyCut = raw.key != null && raw.key.length > MAX_KEPT_BYTES;
    return DeadLetter.newBuilder()
        .setPayload(raw.value == null ? null : ByteBuffer.wrap(kept(raw.value)))
        .setKey(raw.key == null ? null : ByteBuffer.wrap(kept(raw.key)))
        .setTopic(raw.topic)
        .setPartition(raw.partition)
        .setOffset(raw.offset)
        .setReason(
            reason.length() > MAX_REASON_CHARS
                ? reason.substring(0, MAX_REASON_CHARS) + "…"
                : reason)
        .setCategory(category)
        .setFailedAt(Instant.now())
        .setPayloadSize(valueCut ? (long) raw.value.length : null)
        .setPayloadSha256(valueCut ? ModelArtifact.sha256(raw.value) : null)
        .setTruncated(valueCut || keyCut)
        .build();
  }

  private static byte[] kept(byte[] bytes) {
    return bytes.length > MAX_KEPT_BYTES ? Arrays.copyOf(bytes, MAX_KEPT_BYTES) : bytes;
  }

  /**
   * A dead letter for a reading that decoded but cannot be used; its payload is the reading
   * re-encoded.
   */
  static DeadLetter of(ReadingEvent event, String category, String reason) {
    byte[] key = event.reading.getSeriesId().getBytes(StandardCharsets.UTF_8);
    return of(
        new RawRecord(
            key, Codecs.READING.encode(event.reading), event.topic, event.partition, event.offset),
        category,
        reason);
  }
}
