package dev.forecaster.job;

import dev.forecaster.model.History;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.Architecture;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ValueTransform;
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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** A real broker with the job's topics, real readings, real trained models, and read_committed readers. */
final class JobFixture implements AutoCloseable {

  final LocalKafkaBroker broker;
  final String prefix;

  JobFixture(String prefix) throws Exception {
    this.broker = LocalKafkaBroker.start();
    this.prefix = prefix;
    broker.createTopic(topic("readings"), 2, Map.of());
    broker.createTopic(topic("models"), 1, Map.of("cleanup.policy", "compact"));
    broker.createTopic(topic("forecasts"), 2, Map.of());
    broker.createTopic(topic("evaluations"), 2, Map.of());
    broker.createTopic(topic("readings.dlq"), 1, Map.of());
  }

  /**
   * Flink's mini cluster for a test class: one task manager with four slots, every port on
   * 127.0.0.1, plus {@code more} settings.
   */
  static org.apache.flink.test.junit5.MiniClusterExtension miniCluster(Map<String, String> more) {
    Map<String, String> c = new java.util.HashMap<>(Map.of(
        "rest.bind-address", "127.0.0.1", "rest.address", "127.0.0.1",
        "jobmanager.bind-host", "127.0.0.1", "taskmanager.bind-host", "127.0.0.1",
        "taskmanager.host", "127.0.0.1"));
    c.putAll(more);
    return new org.apache.flink.test.junit5.MiniClusterExtension(
        new org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1)
            .setNumberSlotsPerTaskManager(4)
            .setConfiguration(org.apache.flink.configuration.Configuration.fromMap(c))
            .build());
  }

  String topic(String name) {
    return prefix + "-" + name;
  }

  JobConfig config(Map<String, String> more) {
    Map<String, String> c = new java.util.LinkedHashMap<>(Map.of(
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
    Path file = Path.of(System.getProperty("forecaster.data.dir", "../data")).resolve(DatasetPreset.WEATHER.shippedFile());
    return new CsvReadingReader(DatasetPreset.WEATHER.mapping(), BadRowPolicy.FAIL).readAll(file).stream()
        .filter(r -> !r.getDay().isBefore(from) && r.getDay().isBefore(until))
        .toList();
  }

  /** Trains a small model on 2012 .. May 2013 and publishes it (version 1, 2, ... per call). */
  ModelUpdate publishModel(int epochs, int hidden) throws Exception {
    ModelSpec spec = ModelSpec.builder().name("weather-test").hiddenSize(hidden).features(List.of("temp_max", "temp_min", "precipitation", "wind")).calendar(true).target("temp_max").windowLength(5).build();
    ModelRegistry registry = new ModelRegistry(
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), topic("models"));
    History history = History.ofFile(seattle(LocalDate.of(2012, 1, 1), LocalDate.of(2013, 6, 1)));
    TrainingSettings settings = TrainingSettings.builder().epochs(epochs).learningRate(0.01).batchSize(32)
        .patience(0).seed(42 + hidden).build();
    new TrainingRun(Clock.systemUTC()).run(history,
        TrainingRun.Request.publish(spec, settings, LocalDate.of(2013, 3, 1), registry).forced(), e -> { });
    return registry.latest("weather-test").orElseThrow();
  }

  void produceReadings(List<Reading> readings) {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (Reading r : readings) {
      records.add(new ProducerRecord<>(topic("readings"), r.getSeriesId().getBytes(StandardCharsets.UTF_8),
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

  /** Everything committed on a topic, decoded, waiting until {@code done} holds or the timeout passes. */
  <T extends org.apache.avro.specific.SpecificRecord> List<T> readUntil(String topic, AvroCodec<T> codec,
      Predicate<List<T>> done, Duration timeout) throws Exception {
    return read(topic, codec, done, timeout, "read_committed");
  }

  /** Like {@link #readUntil}, but also what open transactions wrote (not yet committed). */
  <T extends org.apache.avro.specific.SpecificRecord> List<T> readUncommittedUntil(String topic, AvroCodec<T> codec,
      Predicate<List<T>> done, Duration timeout) throws Exception {
    return read(topic, codec, done, timeout, "read_uncommitted");
  }

  private <T extends org.apache.avro.specific.SpecificRecord> List<T> read(String topic, AvroCodec<T> codec,
      Predicate<List<T>> done, Duration timeout, String isolation) throws Exception {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + System.nanoTime());
    List<T> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      while (!done.test(out) && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(codec.decode(r.value()));
        }
      }
      // a little longer, so that records beyond what was awaited (duplicates) would show
      long settle = System.nanoTime() + (isolation.equals("read_committed") ? Duration.ofMillis(1500).toNanos() : 0);
      while (System.nanoTime() < settle) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(codec.decode(r.value()));
        }
      }
    }
    return out;
  }

  /**
   * Waits until the job forecasts with {@code version}: a probe series (its own, each call) gets a
   * week of readings, and its first forecast of that version shows the model serving.
   */
  void awaitServing(long version) throws Exception {
    String probe = "probe-v" + version;
    produceReadings(seattle(LocalDate.of(2013, 1, 1), LocalDate.of(2013, 1, 8)).stream()
        .map(r -> Reading.newBuilder(r).setSeriesId(probe).build()).toList());
    List<Forecast> seen = readUntil(topic("forecasts"), Codecs.FORECAST,
        f -> f.stream().anyMatch(x -> x.getSeriesId().equals(probe) && x.getModelVersion() == version),
        Duration.ofSeconds(60));
    if (seen.stream().noneMatch(x -> x.getSeriesId().equals(probe) && x.getModelVersion() == version)) {
      throw new AssertionError("the job did not forecast with version " + version + " within 60 s");
    }
  }

  static long count(List<Forecast> forecasts, String series) {
    return forecasts.stream().filter(f -> f.getSeriesId().equals(series)).count();
  }

  @Override
  public void close() {
    broker.close();
  }
}
