package dev.forecaster.trainer;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compacted {@code models} topic as a registry: the latest published version of each model
 * name, and publishing a new one. Key: model name; value: a {@code ModelUpdate} with the artifact
 * inline.
 */
public final class ModelRegistry {

  private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

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

  /** The published update of {@code modelName} with the highest version, if any. */
  public Optional<ModelUpdate> latest(String modelName) {
    ModelUpdate latest = null;
    for (ModelUpdate u : readAll()) {
      if (u.getModelName().equals(modelName)
          && (latest == null || u.getVersion() > latest.getVersion())) {
        latest = u;
      }
    }
    return Optional.ofNullable(latest);
  }

  /**
   * Every update on the topic, read from the beginning up to the end offsets at the start of the
   * call.
   */
  public List<ModelUpdate> readAll() {
    List<ModelUpdate> updates = new ArrayList<>();
    Map<String, Object> overrides =
        Map.of(
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Topics.MAX_MODEL_BYTES);
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

  /** Publishes an update and waits until the broker has it (acks=all, idempotent). */
  public RecordMetadata publish(ModelUpdate update) {
    ensureTopic();
    Map<String, Object> overrides =
        Map.of(
            ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
            ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
            ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.MAX_MODEL_BYTES);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props(overrides))) {
      return producer
          .send(
              new ProducerRecord<>(
                  topic, update.getModelName(), Codecs.MODEL_UPDATE.encode(update)))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "publishing "
              + update.getModelName()
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
