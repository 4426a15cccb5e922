package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.schemas.Codecs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.OutputTag;

/** Builds dead letters; every operator that rejects input names its own tag next to itself. */
public final class DeadLetters {

  private DeadLetters() {}

  static OutputTag<DeadLetter> tag(String id) {
    return new OutputTag<>(id, new AvroTypeInfo<>(DeadLetter.class));
  }

  static DeadLetter of(RawRecord raw, String category, String reason) {
    return DeadLetter.newBuilder()
        .setPayload(raw.value == null ? null : ByteBuffer.wrap(raw.value))
        .setKey(raw.key == null ? null : ByteBuffer.wrap(raw.key))
        .setTopic(raw.topic)
        .setPartition(raw.partition)
        .setOffset(raw.offset)
        .setReason(reason)
        .setCategory(category)
        .setFailedAt(Instant.now())
        .build();
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
