package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.AvroCodec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.ModelRegistry;
import dev.forecaster.trainer.TrainingRun;
import dev.forecaster.trainer.TrainingSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A real broker with the job's topics, real readings, real trained models, and read_committed
 * readers.
 */
final class JobFixture implements AutoCloseable {

  final LocalKafkaBroker broker;
  final String prefix;

  JobFixture(String prefix) throws Exception {
    this(prefix, Map.of());
  }

  /** With broker properties that replace the defaults. */
  JobFixture(String prefix, Map<String, String> brokerProperties) throws Exception {
    this.broker = LocalKafkaBroker.builder().brokerProperties(brokerProperties).start();
    this.prefix = prefix;
    ForecastJob.ensureTopics(config(Map.of())); // as the job defines them
  }

  /**
   * Flink's mini cluster for a test class: one task manager with four slots, every port on
   * 127.0.0.1, plus {@code more} settings.
   */
  static MiniClusterExtension miniCluster(Map<String, String> more) {
    Map<String, String> c =
        new HashMap<>(
            Map.of(
                "rest.bind-address",
                "127.0.0.1",
                "rest.address",
                "127.0.0.1",
                "jobmanager.bind-host",
                "127.0.0.1",
                "taskmanager.bind-host",
                "127.0.0.1",
                "taskmanager.host",
                "127.0.0.1"));
    c.putAll(more);
    return new MiniClusterExtension(
        new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .setConfiguration(Configuration.fromMap(c))
            .build());
  }

  String topic(String name) {
    return prefix + "-" + name;
  }

  JobConfig config(Map<String, String> more) {
    Map<String, String> c =
        new LinkedHashMap<>(
            Map.of(
                "bootstrap.servers", broker.bootstrapServers(),
                "topic.readings", topic("readings"),
                "topic.models", topic("models"),
                "topic.forecasts", topic("forecasts"),
                "topic.evaluations", topic("evaluations"),
                "topic.dead-letters", topic("readings.dlq"),
                "group.id", prefix + "-job",
                "transactional.id.prefix", prefix,
                "checkpoint.interval.ms", "500",
                "parallelism", "2"));
    c.put("model.name", "weather-test");
    c.put("transaction.timeout.ms", "120000");
    c.putAll(more);
    return JobConfig.of(c);
  }

  static List<Reading> seattle(LocalDate from, LocalDate until) throws Exception {
    return shipped(DatasetPreset.WEATHER, from, until);
  }

  /** The readings of a shipped file from {@code from} until before {@code until}. */
  static List<Reading> shipped(DatasetPreset preset, LocalDate from, LocalDate until)
      throws Exception {
    Path file =
        Path.of(System.getProperty("forecaster.data.dir", "../data")).resolve(preset.shippedFile());
    return new CsvReadingReader(preset.mapping(), BadRowPolicy.FAIL)
        .readAll(file).stream()
            .filter(r -> !r.getDay().isBefore(from) && r.getDay().isBefore(until))
            .toList();
  }

  /** Trains a small model on 2012 .. May 2013 and publishes it (version 1, 2, ... per call). */
  ModelUpdate publishModel(int epochs, int hidden) throws Exception {
    ModelSpec spec =
        ModelSpec.builder()
            .name("weather-test")
            .hiddenSize(hidden)
            .features(List.of("temp_max", "temp_min", "precipitation", "wind"))
            .calendar(true)
            .target("temp_max")
            .windowLength(5)
            .build();
    return publishModel(
        spec, seattle(LocalDate.of(2012, 1, 1), LocalDate.of(2013, 6, 1)), epochs, 42 + hidden);
  }

  /**
   * Trains {@code spec} on {@code readings} by the trainer's own run (test windows from March 2013)
   * and publishes it.
   */
  ModelUpdate publishModel(ModelSpec spec, List<Reading> readings, int epochs, long seed)
      throws Exception {
    ModelRegistry registry =
        new ModelRegistry(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
            topic("models"));
    History history = History.ofFile(readings);
    TrainingSettings settings =
        TrainingSettings.builder()
            .epochs(epochs)
            .learningRate(0.01)
            .batchSize(32)
            .patience(0)
            .seed(seed)
            .build();
    new TrainingRun(Clock.systemUTC())
        .run(
            history,
            TrainingRun.Request.publish(spec, settings, LocalDate.of(2013, 3, 1), registry)
                .forced(),
            e -> {});
    return registry.serving(spec.name()).orElseThrow();
  }

  void produceReadings(List<Reading> readings) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (Reading r : readings) {
      records.add(
          new ProducerRecord<>(
              topic("readings"),
              r.getSeriesId().getBytes(StandardCharsets.UTF_8),
              Codecs.READING.encode(r)));
    }
    produce(records);
  }

  void produce(List<ProducerRecord<byte[], byte[]>> records) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      records.forEach(producer::send);
      producer.flush();
    }
  }

  /** Makes the job take a checkpoint; null when the job checkpoints on its own interval. */
  private volatile CheckpointTrigger checkpoints;

  /** Takes a checkpoint of the running job (its output commits at each one). */
  @FunctionalInterface
  interface CheckpointTrigger {
    void trigger() throws Exception;
  }

  /**
   * From now on, every wait for committed output triggers checkpoints with {@code trigger} (for a
   * job whose checkpoint interval is too long to wait for).
   */
  void checkpointWith(CheckpointTrigger trigger) {
    this.checkpoints = trigger;
  }

  /**
   * Everything committed on a topic, decoded: waits until {@code done} holds (or the timeout
   * passes), then reads on to the topic's end as it is then (its high watermark, open transactions
   * included), until each of those records is committed or aborted. Whatever the job had written by
   * the time {@code done} held is in the result, duplicates included.
   */
  <T extends SpecificRecord> List<T> readUntil(
      String topic, AvroCodec<T> codec, Predicate<List<T>> done, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_committed")) {
      List<TopicPartition> partitions = assignFromStart(consumer, topic);
      List<T> out = new ArrayList<>();
      while (!done.test(out) && System.nanoTime() < deadline) {
        checkpoint();
        poll(consumer, codec, out);
      }
      // the read_committed position passes an offset once its transaction is decided
      Map<TopicPartition, Long> end;
      try (KafkaConsumer<byte[], byte[]> uncommitted = consumer("read_uncommitted")) {
        end = uncommitted.endOffsets(partitions);
      }
      while (!reached(consumer, end) && System.nanoTime() < deadline) {
        checkpoint();
        poll(consumer, codec, out);
      }
      return out;
    }
  }

  /** What the job wrote to a topic so far, committed or not (no checkpoint is triggered). */
  <T extends SpecificRecord> List<T> readUncommittedUntil(
      String topic, AvroCodec<T> codec, Predicate<List<T>> done, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_uncommitted")) {
      assignFromStart(consumer, topic);
      List<T> out = new ArrayList<>();
      while (!done.test(out) && System.nanoTime() < deadline) {
        poll(consumer, codec, out);
      }
      return out;
    }
  }

  /** What is committed on a topic right now: read up to its last stable offsets, no checkpoint. */
  <T extends SpecificRecord> List<T> readCommittedNow(String topic, AvroCodec<T> codec)
      throws Exception {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer("read_committed")) {
      List<TopicPartition> partitions = assignFromStart(consumer, topic);
      Map<TopicPartition, Long> stable = consumer.endOffsets(partitions); // read_committed: the LSO
      List<T> out = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!reached(consumer, stable) && System.nanoTime() < deadline) {
        poll(consumer, codec, out);
      }
      return out;
    }
  }

  private void checkpoint() {
    CheckpointTrigger trigger = checkpoints;
    if (trigger != null) {
      try {
        trigger.trigger();
      } catch (Exception e) {
        // the job is restarting: the next round of the wait triggers again
      }
    }
  }

  private KafkaConsumer<byte[], byte[]> consumer(String isolation) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static List<TopicPartition> assignFromStart(
      KafkaConsumer<byte[], byte[]> consumer, String topic) {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic).stream()
            .map(i -> new TopicPartition(i.topic(), i.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return partitions;
  }

  private static boolean reached(
      KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    return end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
  }

  private static <T extends SpecificRecord> void poll(
      KafkaConsumer<byte[], byte[]> consumer, AvroCodec<T> codec, List<T> out) throws Exception {
    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
      out.add(codec.decode(r.value()));
    }
  }

  /**
   * Waits until the job forecasts with {@code version}: a probe series (its own, each call) gets a
   * week of readings, and its first forecast of that version shows the model serving.
   */
  void awaitServing(long version) throws Exception {
    String probe = "probe-v" + version;
    produceReadings(
        seattle(LocalDate.of(2013, 1, 1), LocalDate.of(2013, 1, 8)).stream()
            .map(r -> Reading.newBuilder(r).setSeriesId(probe).build())
            .toList());
    List<Forecast> seen =
        readUntil(
            topic("forecasts"),
            Codecs.FORECAST,
            f ->
                f.stream()
                    .anyMatch(x -> x.getSeriesId().equals(probe) && x.getModelVersion() == version),
            Duration.ofSeconds(60));
    if (seen.stream()
        .noneMatch(x -> x.getSeriesId().equals(probe) && x.getModelVersion() == version)) {
      throw new AssertionError("the job did not forecast with version " + version + " within 60 s");
    }
  }

  /** The committed dead letters once there are at least {@code n} (fewer if 30 s pass). */
  List<DeadLetter> deadLetters(int n) throws Exception {
    return readUntil(
        topic("readings.dlq"), Codecs.DEAD_LETTER, d -> d.size() >= n, Duration.ofSeconds(30));
  }

  /**
   * The committed forecasts of one series once there are {@code expected} of them (fewer if the
   * timeout passes), with any duplicates the job wrote meanwhile.
   */
  List<Forecast> forecastsOf(String series, int expected, Duration timeout) throws Exception {
    return readUntil(
            topic("forecasts"), Codecs.FORECAST, f -> count(f, series) >= expected, timeout)
        .stream()
        .filter(f -> f.getSeriesId().equals(series))
        .toList();
  }

  static long count(List<Forecast> forecasts, String series) {
    return forecasts.stream().filter(f -> f.getSeriesId().equals(series)).count();
  }

  @Override
  public void close() {
    broker.close();
  }
}
