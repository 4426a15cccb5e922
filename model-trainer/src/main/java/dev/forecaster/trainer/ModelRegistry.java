package dev.forecaster.trainer;

import ai.djl.Device;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.ModelArtifactException;
import dev.forecaster.model.ModelUpdates;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compacted {@code models} topic as a registry: the versions of each model name, the one that
 * serves, and publishing a new one. Key: {@code <model name>/v<version>}, so that compaction keeps
 * the last {@link #KEEP_VERSIONS} versions and a bad record never becomes the only one; value: a
 * {@code ModelUpdate} with the artifact inline.
 */
public final class ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /** Versions of a model kept on the topic; older ones get tombstones when a new one lands. */
  public static final int KEEP_VERSIONS = 5;

  private final Map<String, Object> clientProperties;
  private final String topic;
  private final Duration timeout;

  /**
   * @param clientProperties bootstrap servers and any client settings (SASL/SSL) for admin,
   *     consumer and producer
   */
  public ModelRegistry(Map<String, Object> clientProperties, String topic) {
    this.clientProperties = Map.copyOf(clientProperties);
    this.topic = topic;
    Object apiTimeout = clientProperties.get(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG);
    this.timeout =
        apiTimeout == null
            ? DEFAULT_TIMEOUT
            : Duration.ofMillis(Long.parseLong(apiTimeout.toString()));
  }

  /**
   * Creates the topic, compacted, if it does not exist; fails naming the address if no broker
   * answers.
   */
  public void ensureTopic() {
    List<String> created =
        Topics.ensure(
            clientProperties, Map.of(Topics.MODELS, topic), Topics.DEFAULT_PARTITIONS, timeout);
    if (!created.isEmpty()) {
      LOG.info("created compacted topic {}", topic);
    }
  }

  /**
   * The update of {@code modelName} that serves: the highest version whose artifact loads and
   * matches its record ({@link ModelUpdates#load}); a corrupt or forged record with a higher
   * version is passed over, as the job passes it over.
   */
  public Optional<ModelUpdate> serving(String modelName) {
    List<ModelUpdate> newestFirst =
        readAll().stream()
            .filter(u -> u.getModelName().equals(modelName))
            .sorted(Comparator.comparingLong(ModelUpdate::getVersion).reversed())
            .toList();
    for (ModelUpdate u : newestFirst) {
      try {
        verify(u);
        return Optional.of(u);
      } catch (ModelArtifactException e) {
        LOG.warn(
            "{} v{} on {} does not load: {}", modelName, u.getVersion(), topic, e.getMessage());
      }
    }
    return Optional.empty();
  }

  /**
   * The highest version of {@code modelName} on the topic, whether it loads or not (0 if none): a
   * new version is always above it, so that no two records share a version.
   */
  public long highestVersion(String modelName) {
    return highestVersion(readAll(), modelName);
  }

  private static long highestVersion(List<ModelUpdate> updates, String modelName) {
    return updates.stream()
        .filter(u -> u.getModelName().equals(modelName))
        .mapToLong(ModelUpdate::getVersion)
        .max()
        .orElse(0);
  }

  /** The record key of a version: every version has its own, so compaction keeps each. */
  public static String key(String modelName, long version) {
    return modelName + "/v" + version;
  }

  /**
   * Every update on the topic, read from the beginning up to the end offsets at the start of the
   * call.
   */
  public List<ModelUpdate> readAll() {
    List<ModelUpdate> updates = new ArrayList<>();
    // never creates the topic with a broker's defaults (7 days, 1 MiB), which ensureTopic would
    // then leave as it is (kafka-clients 4.2's lookup did not, checked; this keeps it so)
    Map<String, Object> overrides =
        Map.of(
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
            StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
            ByteArrayDeserializer.class,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG,
            "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG,
            false,
            ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG,
            false,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
            Topics.MAX_MODEL_BYTES);
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props(overrides))) {
      BoundedRead.untilEndOffsets(
          consumer,
          topic,
          timeout,
          (ConsumerRecord<String, byte[]> r) -> {
            if (r.value() == null) {
              return; // a tombstone: the model was withdrawn
            }
            try {
              updates.add(Codecs.MODEL_UPDATE.decode(r.value()));
            } catch (RecordDecodingException e) {
              LOG.warn(
                  "skipping an unreadable model update at {}-{}@{}: {}",
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  e.getMessage());
            }
          });
    } catch (KafkaException e) {
      // as ensureTopic does: say where no broker answered
      throw new IllegalStateException(
          "cannot read topic " + topic + " at " + bootstrap() + ": " + e.getMessage(), e);
    }
    return updates;
  }

  /**
   * Publishes a version, fenced and conditional: the update must load ({@link ModelUpdates#load}),
   * and its version must be above every version on the topic when the transaction starts. One
   * transactional id per topic and model name fences two trainers of one model: the later one to
   * start publishing wins, the earlier one's commit fails, and neither can publish a version that
   * is already there. Versions beyond the newest {@link #KEEP_VERSIONS} get tombstones in the same
   * transaction. Returns once read_committed readers see the new version.
   *
   * @throws PublishConflictException when the version is already taken or another publisher fenced
   *     this one (train again on the newer version)
   * @throws IllegalArgumentException when the update does not load
   */
  public RecordMetadata publish(ModelUpdate update) {
    try {
      verify(update);
    } catch (ModelArtifactException e) {
      throw new IllegalArgumentException(
          "refusing to publish "
              + update.getModelName()
              + " v"
              + update.getVersion()
              + ": it does not load: "
              + e.getMessage(),
          e);
    }
    ensureTopic();
    String name = update.getModelName();
    Map<String, Object> overrides =
        Map.of(
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG,
            StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG,
            ByteArraySerializer.class,
            ProducerConfig.ACKS_CONFIG,
            "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG,
            true,
            ProducerConfig.TRANSACTIONAL_ID_CONFIG,
            "forecaster-publish-" + topic + "-" + name,
            ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
            (int) Math.max(60_000, timeout.toMillis()),
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG,
            Topics.MAX_MODEL_BYTES);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props(overrides))) {
      producer.initTransactions(); // fences every earlier publisher of this name
      List<ModelUpdate> onTopic = readAll(); // read_committed, after the fence
      long highest = highestVersion(onTopic, name);
      if (update.getVersion() <= highest) {
        throw new PublishConflictException(
            name
                + " v"
                + highest
                + " is already on "
                + topic
                + ": v"
                + update.getVersion()
                + " was trained against an older version and is not published");
      }
      producer.beginTransaction();
      Future<RecordMetadata> sent =
          producer.send(
              new ProducerRecord<>(
                  topic, key(name, update.getVersion()), Codecs.MODEL_UPDATE.encode(update)));
      onTopic.stream()
          .filter(u -> u.getModelName().equals(name))
          .mapToLong(ModelUpdate::getVersion)
          .filter(v -> v <= update.getVersion() - KEEP_VERSIONS)
          .distinct()
          .forEach(v -> producer.send(new ProducerRecord<>(topic, key(name, v), null)));
      producer.commitTransaction();
      RecordMetadata metadata = sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      awaitVisible(name, update.getVersion());
      return metadata;
    } catch (ProducerFencedException | InvalidProducerEpochException e) {
      throw new PublishConflictException(
          "another publisher of "
              + name
              + " started meanwhile: v"
              + update.getVersion()
              + " is not published",
          e);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      throw new IllegalStateException(
          "publishing "
              + name
              + " v"
              + update.getVersion()
              + " to "
              + topic
              + " at "
              + bootstrap()
              + " failed: "
              + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while publishing", e);
    }
  }

  /**
   * Waits until read_committed readers see a committed version: the commit markers reach the
   * partition after {@code commitTransaction} returns, so a read straight after it can miss it.
   */
  private void awaitVisible(String name, long version) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (readAll().stream()
        .noneMatch(u -> u.getModelName().equals(name) && u.getVersion() == version)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name
                + " v"
                + version
                + " was committed to "
                + topic
                + " but is not visible after "
                + timeout);
      }
      Thread.sleep(100);
    }
  }

  /** Loads an update's model on the CPU and closes it: its checksum and record are right. */
  private static void verify(ModelUpdate update) throws ModelArtifactException {
    ModelUpdates.load(update, Device.cpu()).close();
  }

  /** A version that another publisher got to first. */
  public static final class PublishConflictException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    PublishConflictException(String message) {
      super(message);
    }

    PublishConflictException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private Object bootstrap() {
    return clientProperties.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
  }

  private Properties props(Map<String, Object> overrides) {
    Properties p = new Properties();
    p.putAll(clientProperties);
    p.putAll(overrides);
    return p;
  }
}
