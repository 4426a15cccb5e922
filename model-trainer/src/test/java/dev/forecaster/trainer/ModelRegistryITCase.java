package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.kafka.LocalKafkaBroker;
import dev.forecaster.model.LoadedModel;
import dev.forecaster.model.ModelArtifact;
import dev.forecaster.model.ModelSpec;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.Codecs;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The models topic against a real broker: only models that load are published, each version under
 * its own key (so that compaction never leaves a bad record alone), a version is published once,
 * and old versions make way.
 */
class ModelRegistryITCase {

  private static LocalKafkaBroker broker;
  private static ModelUpdate trained;

  @BeforeAll
  static void start() {
    // the log cleaner looks for work every 100 ms instead of every 15 s
    broker = LocalKafkaBroker.builder().brokerProperty("log.cleaner.backoff.ms", "100").start();
    ModelRegistry scratch = registry("models-scratch");
    WeatherSlice.publishOneEpoch("slice", scratch);
    trained = scratch.serving("slice").orElseThrow();
  }

  @AfterAll
  static void stop() {
    broker.close();
  }

  @Test
  void anUpdateThatDoesNotLoadIsNeverPublished() throws Exception {
    ModelRegistry registry = registry("models-validated");
    ModelUpdate corrupt = corrupt(version(2));

    assertThatThrownBy(() -> registry.publish(corrupt))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refusing to publish slice v2");
    registry.publish(version(1));
    assertThat(registry.readAll()).extracting(ModelUpdate::getVersion).containsExactly(1L);
  }

  @Test
  void aVersionIsPublishedOnceAndTheLaterPublisherIsToldWhy() {
    ModelRegistry first = registry("models-fenced");
    ModelRegistry second = registry("models-fenced"); // another trainer of the same model
    first.publish(version(1));
    long next = second.highestVersion("slice") + 1;
    first.publish(version(next)); // the first trainer got there while the second one trained

    assertThatThrownBy(() -> second.publish(version(next)))
        .isInstanceOf(ModelRegistry.PublishConflictException.class)
        .hasMessageContaining("slice v2 is already on models-fenced");
    assertThat(first.readAll()).extracting(ModelUpdate::getVersion).containsExactly(1L, 2L);
  }

  @Test
  void aCorruptNewerRecordIsPassedOverAndCompactionKeepsTheGoodVersions() throws Exception {
    String topic = "models-compacted";
    broker.createTopic(
        topic,
        1,
        Map.of(
            "cleanup.policy", "compact",
            "segment.ms", "100",
            "min.cleanable.dirty.ratio", "0.001",
            "delete.retention.ms", "100"));
    ModelRegistry registry = registry(topic);
    registry.publish(version(1));
    registry.publish(version(2));
    // a forged v3 written by hand under the model's bare name, as a record keyed by name would be
    sendRaw(topic, "slice", Codecs.MODEL_UPDATE.encode(corrupt(version(3))));
    sendRaw(topic, "slice", Codecs.MODEL_UPDATE.encode(corrupt(version(3))));

    // compaction: the first forged record goes once the cleaner has run over the rolled segment
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (rawKeys(topic).stream().filter("slice"::equals).count() > 1) {
      assertThat(System.nanoTime()).as("compaction within 60 s").isLessThan(deadline);
      sendRaw(topic, "nudge", null); // a new record rolls the segment that is due (segment.ms)
      Thread.sleep(200);
    }

    assertThat(rawKeys(topic))
        .contains(ModelRegistry.key("slice", 1), ModelRegistry.key("slice", 2));
    assertThat(registry.serving("slice")).map(ModelUpdate::getVersion).contains(2L);
    assertThat(registry.highestVersion("slice")).isEqualTo(3); // the next one is v4, never v3
  }

  @Test
  void onlyTheNewestVersionsStayOnTheTopic() throws Exception {
    String topic = "models-kept";
    ModelRegistry registry = registry(topic);
    for (long v = 1; v <= ModelRegistry.KEEP_VERSIONS + 2; v++) {
      registry.publish(version(v));
    }

    assertThat(registry.readAll())
        .extracting(ModelUpdate::getVersion)
        .containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L); // compaction has not run: tombstones follow
    Map<String, Boolean> tombstoned = new LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> r : raw(topic)) {
      tombstoned.put(r.key(), r.value() == null);
    }
    assertThat(tombstoned)
        .containsEntry(ModelRegistry.key("slice", 1), true)
        .containsEntry(ModelRegistry.key("slice", 2), true)
        .containsEntry(ModelRegistry.key("slice", 3), false)
        .containsEntry(ModelRegistry.key("slice", 7), false);
  }

  /** The trained model as another version (its artifact's spec says so too). */
  private static ModelUpdate version(long v) {
    try (LoadedModel m = ModelUpdates.load(trained, Device.cpu())) {
      ModelSpec spec = m.spec().withVersion(v, System.currentTimeMillis());
      return ModelUpdates.of(spec, ModelArtifact.write(m, spec));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The update with its artifact's bytes flipped: the checksum no longer holds. */
  private static ModelUpdate corrupt(ModelUpdate good) throws Exception {
    byte[] bytes = ModelUpdates.artifactBytes(good);
    bytes[bytes.length / 2] ^= 0x5a;
    return ModelUpdate.newBuilder(good).setArtifact(ByteBuffer.wrap(bytes)).build();
  }

  private static ModelRegistry registry(String topic) {
    return new ModelRegistry(
        Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), topic);
  }

  private static void sendRaw(String topic, String key, byte[] value) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", broker.bootstrapServers());
    p.put("max.request.size", Integer.toString(8 * 1024 * 1024));
    try (KafkaProducer<String, byte[]> producer =
        new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic, key, value)).get();
    }
  }

  private static List<String> rawKeys(String topic) {
    return raw(topic).stream().map(ConsumerRecord::key).toList();
  }

  private static List<ConsumerRecord<String, byte[]>> raw(String topic) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024);
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
      BoundedRead.untilEndOffsets(c, topic, Duration.ofSeconds(30), out::add);
    }
    return out;
  }
}
