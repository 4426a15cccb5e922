package dev.forecaster.cli;

import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * How every command writes readings to Kafka: key the series id, value the Avro single-object
 * bytes.
 */
public final class ReadingsProducer {

  private ReadingsProducer() {}

  /**
   * @param lingerMs 0 sends each reading at once (paced replays, latency); more batches them
   */
  public static KafkaProducer<byte[], byte[]> open(
      Map<String, Object> clientProperties, int lingerMs, int batchBytes) {
    Properties p = new Properties();
    p.putAll(clientProperties);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(batchBytes));
    return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
  }

  public static KafkaProducer<byte[], byte[]> open(
      String bootstrapServers, int lingerMs, int batchBytes) {
    return open(
        Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), lingerMs, batchBytes);
  }

  /**
   * Counts the sends that failed (a send is asynchronous: {@code flush} alone says nothing of
   * them), keeping the first error.
   */
  public static final class Failures implements Callback {
    private final AtomicLong count = new AtomicLong();
    private final AtomicReference<Exception> first = new AtomicReference<>();

    @Override
    public void onCompletion(RecordMetadata metadata, Exception e) {
      if (e != null) {
        count.incrementAndGet();
        first.compareAndSet(null, e);
      }
    }

    public long count() {
      return count.get();
    }

    /** After a flush: fails naming how many of {@code sent} readings are not on the topic. */
    public void throwIfAny(long sent, String topic, String servers) {
      if (count.get() > 0) {
        throw new IllegalStateException(
            count.get()
                + " of "
                + sent
                + " readings were not written to "
                + topic
                + " at "
                + servers
                + ": "
                + first.get().getMessage());
      }
    }
  }

  public static ProducerRecord<byte[], byte[]> record(String topic, Reading reading) {
    return new ProducerRecord<>(
        topic,
        reading.getSeriesId().getBytes(StandardCharsets.UTF_8),
        Codecs.READING.encode(reading));
  }
}
