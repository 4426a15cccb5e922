package dev.forecaster.cli;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.job.JobConfig;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import java.time.Duration;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads the job's forecasts, evaluations and dead letters (read_committed) on a thread of its own
 * while the demo runs. A record it cannot decode is counted and logged, not kept; a failure of the
 * reader itself ends the collection and is thrown by {@link #await}.
 */
final class TopicCollector implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TopicCollector.class);

  final List<Forecast> forecasts = new CopyOnWriteArrayList<>();
  final List<Evaluation> evaluations = new CopyOnWriteArrayList<>();
  final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
  private final AtomicLong unreadable = new AtomicLong();
  private final AtomicReference<RuntimeException> failure = new AtomicReference<>();
  private final KafkaConsumer<byte[], byte[]> consumer;
  private final JobConfig config;
  private final Thread thread;

  private TopicCollector(String bootstrapServers, JobConfig config, String groupId) {
    this.config = config;
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    consumer.subscribe(
        List.of(config.forecastsTopic(), config.evaluationsTopic(), config.deadLettersTopic()));
    thread = new Thread(this::collect, "topic-collector");
    thread.setDaemon(true);
  }

  /** Starts reading the job's output topics from their beginning. */
  static TopicCollector start(String bootstrapServers, JobConfig config, String groupId) {
    TopicCollector c = new TopicCollector(bootstrapServers, config, groupId);
    c.thread.start();
    return c;
  }

  private void collect() {
    try {
      while (true) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          keep(r);
        }
      }
    } catch (WakeupException closing) {
      // close() woke the poll
    } catch (RuntimeException e) {
      failure.set(e);
      LOG.error("reading the job's output stopped", e);
    } finally {
      consumer.close();
    }
  }

  private void keep(ConsumerRecord<byte[], byte[]> r) {
    try {
      if (r.topic().equals(config.forecastsTopic())) {
        forecasts.add(Codecs.FORECAST.decode(r.value()));
      } else if (r.topic().equals(config.evaluationsTopic())) {
        evaluations.add(Codecs.EVALUATION.decode(r.value()));
      } else {
        deadLetters.add(Codecs.DEAD_LETTER.decode(r.value()));
      }
    } catch (RecordDecodingException e) {
      if (unreadable.getAndIncrement() == 0) {
        LOG.warn(
            "left out of the report: an unreadable record at {}-{}@{}: {}",
            r.topic(),
            r.partition(),
            r.offset(),
            e.getMessage());
      }
    }
  }

  /** Records that could not be decoded (left out). */
  long unreadable() {
    return unreadable.get();
  }

  /** Evaluations of each series' live days at its nearest horizon (one per live reading). */
  long liveEvaluations(Map<String, LocalDate> liveFrom) {
    return Report.nearestHorizon(List.copyOf(evaluations)).stream()
        .filter(e -> !e.getTargetDay().isBefore(liveFrom.get(e.getSeriesId())))
        .count();
  }

  /**
   * Waits until {@code done} holds, the timeout passes or {@code stopped} says so; returns whether
   * it holds.
   *
   * @throws IllegalStateException when the collection failed
   */
  boolean await(Predicate<TopicCollector> done, Duration timeout, BooleanSupplier stopped)
      throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!done.test(this)) {
      if (failure.get() != null) {
        throw new IllegalStateException("reading the job's output failed", failure.get());
      }
      if (System.nanoTime() > end || stopped.getAsBoolean()) {
        return false;
      }
      Thread.sleep(50);
    }
    return true;
  }

  @Override
  public void close() throws InterruptedException {
    consumer.wakeup();
    thread.join(5000);
  }
}
