package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.Architecture;
import dev.forecaster.model.History;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.schemas.Codecs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Champion/challenger decisions against a real broker's compacted models topic. */
class ChampionChallengerITCase {

  private static LocalKafkaBroker broker;

  @TempDir Path modelsDir;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = LocalKafkaBroker.start();
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  private static ModelRegistry registry(String topic) {
    return new ModelRegistry(
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), topic);
  }

  /**
   * A barely trained model (1 epoch) or one trained for {@code epochs} (early stopping, bias
   * correction).
   */
  private TrainingRun.Outcome round(ModelRegistry registry, int epochs, boolean force) {
    ModelSpec spec = WeatherSlice.spec("weather-slice", Architecture.GRU, 1);
    TrainingSettings settings =
        epochs == 1
            ? WeatherSlice.settings(1)
            : TrainingSettings.builder()
                .epochs(epochs)
                .learningRate(0.005)
                .batchSize(32)
                .patience(10)
                .seed(42)
                .loss(TrainingSettings.Loss.MSE)
                .biasCorrection(true)
                .build();
    return new TrainingRun(Clock.systemUTC())
        .run(
            WeatherSlice.history(),
            TrainingRun.Request.publish(spec, settings, WeatherSlice.TEST_FROM, registry)
                .forced(force)
                .keepingCopiesIn(modelsDir),
            e -> {});
  }

  @Test
  void onlyABetterChallengerIsPublishedWithTheNextVersion() throws Exception {
    ModelRegistry registry = registry("models-ladder");

    // a barely trained model goes in service only because it is forced
    TrainingRun.Outcome weak = round(registry, 1, true);
    assertThat(weak.decision()).isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(weak.version()).isEqualTo(1);

    // a trained one beats it on the same test windows and becomes v2
    TrainingRun.Outcome strong = round(registry, 80, false);
    assertThat(strong.model().mae()).isLessThan(strong.persistence().mae());
    assertThat(strong.champion().version()).isEqualTo(1);
    assertThat(strong.champion().challengerMae()).isLessThan(strong.champion().championMae());
    assertThat(strong.decision()).isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(strong.version()).isEqualTo(2);

    // the weak one again, unforced: worse than the champion (or than persistence), not published
    TrainingRun.Outcome weakAgain = round(registry, 1, false);
    assertThat(weakAgain.decision())
        .isIn(TrainingRun.Decision.KEPT_CHAMPION, TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    // one trained for 30 epochs beats persistence but not the champion on the common windows: kept
    // (here about 2.47 against 2.45 and 2.51; apart by far more than the last digits in which two
    // trainings of the same seed have been seen to differ on another machine)
    TrainingRun.Outcome lessTrained = round(registry, 30, false);
    assertThat(lessTrained.model().mae()).isLessThan(lessTrained.persistence().mae());
    assertThat(lessTrained.decision()).isEqualTo(TrainingRun.Decision.KEPT_CHAMPION);
    assertThat(lessTrained.champion().championMae())
        .isLessThan(lessTrained.champion().challengerMae());

    List<ModelUpdate> onTopic = registry.readAll();
    assertThat(onTopic).extracting(ModelUpdate::getVersion).containsExactly(1L, 2L);
    ModelUpdate v2 = registry.serving("weather-slice").orElseThrow();
    assertThat(v2.getBacktestMetrics().get("mae")).isEqualTo(strong.model().mae());
    assertThat(v2.getSha256()).isEqualTo(ModelArtifact.sha256(v2.getArtifact().array()));
    assertThat(modelsDir.resolve("weather-slice"))
        .isDirectoryContaining(p -> p.getFileName().toString().equals("v1"))
        .isDirectoryContaining(p -> p.getFileName().toString().equals("v2"));
    assertThat(Files.list(modelsDir.resolve("weather-slice")).map(p -> p.getFileName().toString()))
        .containsExactlyInAnyOrder("v1", "v2");
  }

  @Test
  void theReadingsTopicIsReadUpToItsEndOffsetsAsHistory() throws Exception {
    broker.createTopic("readings-history", 3, Map.of());
    List<Reading> readings = WeatherSlice.readings();
    var props = new Properties();
    props.put("bootstrap.servers", broker.bootstrapServers());
    try (var producer =
        new KafkaProducer<byte[], byte[]>(
            props, new ByteArraySerializer(), new ByteArraySerializer())) {
      for (var r : readings) {
        producer.send(
            new ProducerRecord<>(
                "readings-history",
                r.getSeriesId().getBytes(StandardCharsets.UTF_8),
                Codecs.READING.encode(r)));
      }
      producer.send(
          new ProducerRecord<>(
              "readings-history", "x".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3}));
      producer.flush();
    }

    KafkaHistory.Read read =
        KafkaHistory.read(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()),
            "readings-history",
            Duration.ofSeconds(30));

    assertThat(read.records()).isEqualTo(readings.size() + 1);
    assertThat(read.undecodable()).isEqualTo(1);
    assertThat(read.history().bySeries().get("Seattle")).containsExactlyElementsOf(readings);
    // one record of something else among readings is skipped; a topic of nothing else is named
    assertThat(read.requireSomeDecoded("readings-history")).isSameAs(read);
    assertThatThrownBy(
            () -> new KafkaHistory.Read(History.of(List.of()), 3, 3).requireSomeDecoded("models"))
        .isInstanceOf(TrainingDataException.class)
        .hasMessage(
            "no readings to train on: none of the 3 records of models could be decoded as a"
                + " reading (records of another schema or another topic's?)");
  }

  @Test
  void theModelsTopicIsCreatedCompacted() throws Exception {
    ModelRegistry registry = registry("models-created");
    registry.ensureTopic();

    try (var admin =
        Admin.create(
            Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
      var resource = new ConfigResource(ConfigResource.Type.TOPIC, "models-created");
      var config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
      assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");
    }
  }

  @Test
  void aRoundThatCannotReachTheBrokerFailsAndPublishesNothing() {
    ModelRegistry unreachable =
        new ModelRegistry(
            Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG,
                "127.0.0.1:1",
                CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG,
                2000,
                CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG,
                3000),
            "models");

    Assertions.assertThatThrownBy(unreachable::ensureTopic).hasMessageContaining("127.0.0.1:1");
    Assertions.assertThatThrownBy(() -> round(unreachable, 1, true))
        .hasMessageContaining("127.0.0.1:1");
    assertThat(modelsDir).isEmptyDirectory();
  }
}
