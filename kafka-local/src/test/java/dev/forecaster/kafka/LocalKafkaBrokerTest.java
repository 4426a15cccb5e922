package dev.forecaster.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against a real broker: one shared by the tests, and their own where a test stops one. */
class LocalKafkaBrokerTest {

  private static LocalKafkaBroker kafka;

  @BeforeAll
  static void startBroker() {
    kafka = LocalKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void producedRecordsAreConsumedBack() throws Exception {
    kafka.createTopic("readings", 3, Map.of());

    Map<String, String> sent = new HashMap<>();
    try (KafkaProducer<String, String> producer = producer(Map.of())) {
      for (int i = 0; i < 100; i++) {
        String key = "series-" + (i % 10);
        String value = "reading-" + i;
        sent.put(value, key);
        producer.send(new ProducerRecord<>("readings", key, value)).get();
      }
    }

    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        consumer(
            Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "readers",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
      consumer.subscribe(List.of("readings"));
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (received.size() < 100 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(received::add);
      }
    }

    assertThat(received).hasSize(100);
    assertThat(received).allSatisfy(r -> assertThat(r.key()).isEqualTo(sent.get(r.value())));
    assertThat(received.stream().map(ConsumerRecord::value).collect(Collectors.toSet()))
        .isEqualTo(sent.keySet());
    // every key lives in one partition, and the keys spread over the three partitions
    Map<String, Set<Integer>> partitionsOfKey =
        received.stream()
            .collect(
                Collectors.groupingBy(
                    ConsumerRecord::key,
                    Collectors.mapping(ConsumerRecord::partition, Collectors.toSet())));
    assertThat(partitionsOfKey.values()).allSatisfy(p -> assertThat(p).hasSize(1));
    assertThat(received.stream().map(ConsumerRecord::partition).distinct().count())
        .isGreaterThan(1);
  }

  @Test
  void transactionalWritesAreVisibleToReadCommittedOnlyAfterCommit() {
    kafka.createTopic("forecasts", 1, Map.of());
    TopicPartition partition = new TopicPartition("forecasts", 0);

    try (KafkaProducer<String, String> producer =
            producer(
                Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, "forecaster-tx",
                    ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000"));
        KafkaConsumer<String, String> committedReader =
            consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"))) {
      producer.initTransactions();

      producer.beginTransaction();
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>("forecasts", "s", "aborted-" + i));
      }
      producer.flush();
      producer.abortTransaction();

      producer.beginTransaction();
      for (int i = 0; i < 10; i++) {
        producer.send(new ProducerRecord<>("forecasts", "s", "committed-" + i));
      }
      producer.flush();

      committedReader.assign(List.of(partition));
      committedReader.seekToBeginning(List.of(partition));
      List<String> beforeCommit = pollFor(committedReader, Duration.ofSeconds(1), values -> false);
      assertThat(beforeCommit).isEmpty();

      producer.commitTransaction();

      List<String> afterCommit =
          pollFor(committedReader, Duration.ofSeconds(20), values -> values.size() >= 10);
      assertThat(afterCommit)
          .containsExactlyElementsOf(
              IntStream.range(0, 10).mapToObj(i -> "committed-" + i).toList());
    }

    // the aborted records are in the log all the same: a read_uncommitted reader sees both
    try (KafkaConsumer<String, String> uncommittedReader =
        consumer(Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted"))) {
      uncommittedReader.assign(List.of(partition));
      uncommittedReader.seekToBeginning(List.of(partition));
      List<String> everything =
          pollFor(uncommittedReader, Duration.ofSeconds(20), values -> values.size() >= 20);
      assertThat(everything).hasSize(20);
      assertThat(everything.subList(0, 10)).allSatisfy(v -> assertThat(v).startsWith("aborted-"));
    }
  }

  @Test
  void compactedTopicKeepsItsConfig() throws Exception {
    kafka.createTopic("models", 1, Map.of("cleanup.policy", "compact"));
    // creating it again is fine and changes nothing
    kafka.createTopic("models", 1, Map.of());

    ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "models");
    try (Admin admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      Config config = admin.describeConfigs(List.of(topic)).all().get().get(topic);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
      assertThat(
              admin
                  .describeTopics(List.of("models"))
                  .allTopicNames()
                  .get()
                  .get("models")
                  .partitions())
          .hasSize(1);
    }
  }

  @Test
  void closeReleasesThePortAndDeletesTheTempFolder() throws Exception {
    Set<Thread> threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
    LocalKafkaBroker broker = LocalKafkaBroker.start();
    int port = broker.port();
    int controllerPort = broker.controllerPort();
    Path dataDir = broker.dataDir();
    broker.createTopic("evaluations", 1, Map.of());
    assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
    assertThat(dataDir).isDirectory();

    broker.close();
    broker.close(); // a second close does nothing

    assertThat(dataDir).doesNotExist();
    assertThat(canBind(port)).as("client port %d is free", port).isTrue();
    assertThat(canBind(controllerPort)).as("controller port %d is free", controllerPort).isTrue();
    assertThat(nonDaemonThreadsStartedSince(threadsBefore)).isEmpty();
  }

  @Test
  void aBrokerOnAFixedPortAndFolderKeepsItsTopicsAcrossARestart(@TempDir Path folder)
      throws Exception {
    Path dataDir = folder.resolve("kafka");
    int port = freePort();
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(dataDir, port)) {
      assertThat(broker.bootstrapServers()).isEqualTo("127.0.0.1:" + port);
      broker.createTopic("readings.dlq", 2, Map.of());
    }
    assertThat(dataDir).isDirectory();

    try (LocalKafkaBroker broker = LocalKafkaBroker.start(dataDir, port);
        Admin admin =
            Admin.create(
                Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      assertThat(admin.listTopics().names().get()).contains("readings.dlq");
    }
    assertThat(dataDir).isDirectory();
  }

  @Test
  void startingOnAPortInUseFailsAndLeavesNothingBehind() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      Set<Thread> threadsBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
      Set<Path> tempBefore = kafkaTempFolders();

      assertThatThrownBy(() -> LocalKafkaBroker.start(null, taken.getLocalPort()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("port " + taken.getLocalPort() + " on 127.0.0.1 is in use");

      assertThat(kafkaTempFolders()).isEqualTo(tempBefore);
      assertThat(nonDaemonThreadsStartedSince(threadsBefore)).isEmpty();
    }
  }

  private static Set<Path> kafkaTempFolders() throws IOException {
    try (var files = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return files
          .filter(f -> f.getFileName().toString().startsWith("kafka-local-"))
          .collect(Collectors.toSet());
    }
  }

  private static List<String> pollFor(
      KafkaConsumer<String, String> consumer, Duration atMost, Predicate<List<String>> enough) {
    List<String> values = new ArrayList<>();
    long deadline = System.nanoTime() + atMost.toNanos();
    while (!enough.test(values) && System.nanoTime() < deadline) {
      consumer.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
    }
    return values;
  }

  private static KafkaProducer<String, String> producer(Map<String, String> extra) {
    Map<String, Object> props = new HashMap<>(extra);
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  private static KafkaConsumer<String, String> consumer(Map<String, String> extra) {
    Map<String, Object> props = new HashMap<>(extra);
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
  }

  private static boolean canBind(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
      return socket.getLocalPort();
    }
  }

  /** Non-daemon threads that were not there before and are still alive after up to 5 s. */
  private static List<String> nonDaemonThreadsStartedSince(Set<Thread> before)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    List<String> left;
    do {
      left =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> !before.contains(t) && t.isAlive() && !t.isDaemon())
              .map(Thread::getName)
              .toList();
      if (left.isEmpty()) {
        return left;
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return left;
  }
}
