package dev.forecaster.trainer;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The compacted {@code models} topic as a registry: the latest published version of each model
 * name, and publishing a new one. Key: model name; value: a {@code ModelUpdate} with the
 * artifact inline.
 */
public final class ModelRegistry {

  /** Largest model update the topic and the producer accept (artifacts travel inline). */
  public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

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
    this.timeout = apiTimeout == null ? DEFAULT_TIMEOUT : Duration.ofMillis(Long.parseLong(apiTimeout.toString()));
  }

  /** Creates the topic, compacted, if it does not exist. */
  public void ensureTopic() {
    try (Admin admin = Admin.create(props(Map.of()))) {
      Set<String> names = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (names.contains(topic)) {
        return;
      }
      NewTopic newTopic = new NewTopic(topic, 1, (short) -1)
          .configs(Map.of(
              TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
              TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_MESSAGE_BYTES)));
      admin.createTopics(List.of(newTopic)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      LOG.info("created compacted topic {}", topic);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create topic " + topic + " at " + bootstrap() + ": " + e.getCause(), e);
      }
    } catch (TimeoutException | org.apache.kafka.common.KafkaException e) {
      throw new IllegalStateException(
          "no Kafka broker answered at " + bootstrap() + " (--bootstrap-servers): " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating " + topic, e);
    }
  }

  /** The published update of {@code modelName} with the highest version, if any. */
  public Optional<ModelUpdate> latest(String modelName) {
    ModelUpdate latest = null;
    for (ModelUpdate u : readAll()) {
      if (u.getModelName().equals(modelName) && (latest == null || u.getVersion() > latest.getVersion())) {
        latest = u;
      }
    }
    return Optional.ofNullable(latest);
  }

  /** Every update on the topic, read from the beginning up to the end offsets at the start of the call. */
  public List<ModelUpdate> readAll() {
    List<ModelUpdate> updates = new ArrayList<>();
    Map<String, Object> overrides = Map.of(
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, MAX_MESSAGE_BYTES);
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props(overrides))) {
      BoundedRead.untilEndOffsets(consumer, topic, timeout, (ConsumerRecord<String, byte[]> r) -> {
        if (r.value() == null) {
          return; // a tombstone: the model was withdrawn
        }
        try {
          updates.add(Codecs.MODEL_UPDATE.decode(r.value()));
        } catch (RecordDecodingException e) {
          LOG.warn("skipping an unreadable model update at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
              e.getMessage());
        }
      });
    } catch (org.apache.kafka.common.KafkaException e) {
      // as ensureTopic does: say where no broker answered
      throw new IllegalStateException("cannot read topic " + topic + " at " + bootstrap() + ": " + e.getMessage(), e);
    }
    return updates;
  }

  /** Publishes an update and waits until the broker has it (acks=all, idempotent). */
  public RecordMetadata publish(ModelUpdate update) {
    ensureTopic();
    Map<String, Object> overrides = Map.of(
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_MESSAGE_BYTES);
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props(overrides))) {
      return producer.send(new ProducerRecord<>(topic, update.getModelName(), Codecs.MODEL_UPDATE.encode(update)))
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("publishing " + update.getModelName() + " v" + update.getVersion() + " to "
          + topic + " at " + bootstrap() + " failed: " + e, e);
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
