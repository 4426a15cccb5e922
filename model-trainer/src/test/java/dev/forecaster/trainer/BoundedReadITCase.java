package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.forecaster.kafka.LocalKafkaBroker;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A bounded read of a whole topic against a real broker: to its end offsets, or until stopped. */
class BoundedReadITCase {

  private static final int RECORDS = 2_000;
  private static final int PER_POLL = 100;

  private static LocalKafkaBroker broker;

  @BeforeAll
  static void start() {
    broker = LocalKafkaBroker.start();
    broker.createTopic("history", 1, Map.of());
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    try (var producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      IntStream.range(0, RECORDS)
          .forEach(
              i ->
                  producer.send(
                      new ProducerRecord<>(
                          "history", ("reading " + i).getBytes(StandardCharsets.UTF_8))));
      producer.flush();
    }
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  private static KafkaConsumer<byte[], byte[]> consumer() {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, PER_POLL); // the read takes many polls
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @Test
  void aReadGoesToTheEndOffsetsItFoundAtItsStart() {
    try (var consumer = consumer()) {
      assertThat(BoundedRead.untilEndOffsets(consumer, "history", Duration.ofSeconds(30), r -> {}))
          .isEqualTo(RECORDS);
    }
  }

  @Test
  void aStopIsHeededBetweenTwoPollsNotAtTheEnd() {
    AtomicInteger seen = new AtomicInteger();
    try (var consumer = consumer()) {
      // stopped as soon as the first records arrived: the next poll does not happen
      assertThatThrownBy(
              () ->
                  BoundedRead.untilEndOffsets(
                      consumer,
                      "history",
                      Duration.ofSeconds(30),
                      r -> seen.incrementAndGet(),
                      () -> seen.get() > 0))
          .isInstanceOf(CancellationException.class)
          .hasMessageContaining("reading history stopped after " + seen.get() + " records");
    }
    assertThat(seen.get()).isBetween(1, PER_POLL);
  }
}
