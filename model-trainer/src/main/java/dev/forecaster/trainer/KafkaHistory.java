package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The readings topic as training history: a bounded read up to the end offsets at start. */
public final class KafkaHistory {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaHistory.class);

  /** What a read gave: the history, and how many records could not be decoded (skipped). */
  public record Read(History history, long records, long undecodable) {

    /**
     * Fails where the topic held records and none decoded as a reading: a history that is not empty
     * but of something else, which "no readings" alone would not tell.
     *
     * @throws TrainingDataException naming the topic and the count
     */
    public Read requireSomeDecoded(String topic) {
      if (records > 0 && undecodable == records) {
        throw new TrainingDataException(
            String.format(
                "no readings to train on: none of the %d records of %s could be decoded as a"
                    + " reading (records of another schema or another topic's?)",
                records, topic));
      }
      return this;
    }
  }

  private KafkaHistory() {}

  public static Read read(
      Map<String, Object> clientProperties, String topic, Duration stallTimeout) {
    return read(clientProperties, topic, stallTimeout, () -> false);
  }

  /**
   * The history, read until the end offsets the topic had at the start; abandoned (a {@link
   * java.util.concurrent.CancellationException}) between two polls once {@code stopped} says so.
   */
  public static Read read(
      Map<String, Object> clientProperties,
      String topic,
      Duration stallTimeout,
      BooleanSupplier stopped) {
    Properties p = new Properties();
    p.putAll(clientProperties);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    // reading never creates the topic with a broker's defaults (its 7-day retention)
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    List<Reading> readings = new ArrayList<>();
    long[] undecodable = {0};
    long records;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      records =
          BoundedRead.untilEndOffsets(
              consumer,
              topic,
              stallTimeout,
              r -> {
                try {
                  readings.add(Codecs.READING.decode(r.value()));
                } catch (RecordDecodingException e) {
                  if (undecodable[0]++ < 10) {
                    LOG.warn(
                        "skipping an undecodable reading at {}-{}@{}: {}",
                        r.topic(),
                        r.partition(),
                        r.offset(),
                        e.getMessage());
                  }
                }
              },
              stopped);
    }
    return new Read(History.of(readings), records, undecodable[0]);
  }
}
