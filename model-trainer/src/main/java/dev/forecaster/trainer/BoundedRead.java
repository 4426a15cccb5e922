package dev.forecaster.trainer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Reads a whole topic from the beginning up to the end offsets it had when the read started,
 * without a consumer group: a bounded read of the history, which records written meanwhile do not
 * prolong.
 */
public final class BoundedRead {

  private BoundedRead() {}

  public static <K, V> long untilEndOffsets(
      KafkaConsumer<K, V> consumer,
      String topic,
      Duration timeout,
      Consumer<ConsumerRecord<K, V>> sink) {
    return untilEndOffsets(consumer, topic, timeout, sink, () -> false);
  }

  /**
   * As {@link #untilEndOffsets(KafkaConsumer, String, Duration, Consumer)}, abandoned between two
   * polls once {@code stopped} says so: a long read (a large topic, a slow broker) does not hold up
   * a process that is asked to stop.
   *
   * @throws CancellationException when {@code stopped} said so before the read reached the end
   */
  public static <K, V> long untilEndOffsets(
      KafkaConsumer<K, V> consumer,
      String topic,
      Duration timeout,
      Consumer<ConsumerRecord<K, V>> sink,
      BooleanSupplier stopped) {
    List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
    if (partitions == null || partitions.isEmpty()) {
      return 0; // no such topic yet: nothing to read
    }
    List<TopicPartition> assigned =
        partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    consumer.assign(assigned);
    consumer.seekToBeginning(assigned);
    Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(assigned, timeout));
    end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
    long read = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!end.isEmpty()) {
      if (stopped.getAsBoolean()) {
        throw new CancellationException(
            "reading "
                + topic
                + " stopped after "
                + read
                + " records, short of its end offsets "
                + end);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "reading " + topic + " stalled for " + timeout + " short of its end offsets " + end);
      }
      var records = consumer.poll(Duration.ofMillis(200));
      if (!records.isEmpty()) {
        deadline =
            System.nanoTime() + timeout.toNanos(); // the timeout bounds a stall, not the whole read
      }
      for (ConsumerRecord<K, V> r : records) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        Long stop = end.get(tp);
        if (stop != null && r.offset() < stop) {
          sink.accept(r);
          read++;
        }
      }
      // positions pass the end offsets also over transaction markers and aborted records
      end.entrySet().removeIf(e -> consumer.position(e.getKey(), timeout) >= e.getValue());
    }
    return read;
  }
}
