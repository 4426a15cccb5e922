package dev.forecaster.job;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.schemas.AvroCodec;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.RecordDecodingException;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.TrustedPackages;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.function.Function;
import org.apache.avro.specific.SpecificRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The job's Kafka sources and sinks, built from its configuration. */
public final class KafkaIo {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaIo.class);

  private KafkaIo() {}

  /**
   * Raw readings with their coordinates: decoding happens in the job, where failures become dead
   * letters.
   */
  public static KafkaSource<RawRecord> readings(JobConfig config, boolean bounded) {
    var builder =
        KafkaSource.<RawRecord>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setTopics(config.readingsTopic())
            .setGroupId(config.groupId())
            .setProperties(config.kafkaClientProperties())
            .setProperty("isolation.level", "read_committed")
            .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
            .setDeserializer(new RawDeserializer());
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    return builder.build();
  }

  /** The compacted models topic from its beginning: every subtask learns every model. */
  public static KafkaSource<ModelUpdate> models(JobConfig config, boolean bounded) {
    var builder =
        KafkaSource.<ModelUpdate>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setTopics(config.modelsTopic())
            .setGroupId(config.groupId() + "-models")
            .setProperties(config.kafkaClientProperties())
            .setProperty("isolation.level", "read_committed")
            .setProperty("max.partition.fetch.bytes", Integer.toString(Topics.MAX_MODEL_BYTES))
            .setStartingOffsets(OffsetsInitializer.earliest())
            .setDeserializer(new ModelUpdateDeserializer());
    if (bounded) {
      builder.setBounded(OffsetsInitializer.latest());
    }
    return builder.build();
  }

  /**
   * A sink of one contract type to one topic, keyed by series id (or model name).
   *
   * @param lingerMs the producer's linger.ms at-least-once (0: send at once); exactly-once output
   *     becomes visible at the checkpoint anyway, so there Kafka's default applies
   */
  public static <T extends SpecificRecord> KafkaSink<T> sink(
      JobConfig config,
      String topic,
      AvroCodec<T> codec,
      SerializableKey<T> key,
      String name,
      long lingerMs) {
    Properties producer = config.kafkaClientProperties();
    producer.setProperty("transaction.timeout.ms", Long.toString(config.transactionTimeoutMs()));
    producer.setProperty("max.request.size", Integer.toString(Topics.MAX_MODEL_BYTES));
    boolean exactlyOnce = config.delivery() == JobOptions.Delivery.EXACTLY_ONCE;
    if (!exactlyOnce && !config.kafkaClientProperties().containsKey("linger.ms")) {
      producer.setProperty("linger.ms", Long.toString(lingerMs));
    }
    var builder =
        KafkaSink.<T>builder()
            .setBootstrapServers(config.bootstrapServers())
            .setKafkaProducerConfig(producer)
            .setDeliveryGuarantee(
                exactlyOnce ? DeliveryGuarantee.EXACTLY_ONCE : DeliveryGuarantee.AT_LEAST_ONCE)
            .setRecordSerializer(new ContractSerializer<>(topic, codec, key));
    if (exactlyOnce) {
      // unique per job and output, so that two jobs or two sinks never fence each other
      builder.setTransactionalIdPrefix(config.transactionalIdPrefix() + "-" + name);
    }
    return builder.build();
  }

  /** The Kafka key of a record. */
  @FunctionalInterface
  public interface SerializableKey<T> extends Function<T, String>, Serializable {}

  private static final class ContractSerializer<T extends SpecificRecord>
      implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;
    private final String topic;
    private final Class<T> type;
    private final SerializableKey<T> key;
    private transient AvroCodec<T> codec;

    ContractSerializer(String topic, AvroCodec<T> codec, SerializableKey<T> key) {
      this.topic = topic;
      this.type = codec.type();
      this.key = key;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
        T element, KafkaSinkContext context, Long timestamp) {
      if (codec == null) {
        TrustedPackages.ensureContractsTrusted();
        codec = AvroCodec.of(type);
      }
      // stamped when written, never with the element's event time (its day): a topic keeps records
      // by their timestamp, and a forecast of 2013 must not expire because its subject is old
      return new ProducerRecord<>(
          topic,
          null,
          null,
          key.apply(element).getBytes(StandardCharsets.UTF_8),
          codec.encode(element));
    }
  }

  private static final class RawDeserializer
      implements KafkaRecordDeserializationSchema<RawRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<RawRecord> out) {
      out.collect(new RawRecord(r.key(), r.value(), r.topic(), r.partition(), r.offset()));
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
      return TypeInformation.of(RawRecord.class);
    }
  }

  private static final class ModelUpdateDeserializer
      implements KafkaRecordDeserializationSchema<ModelUpdate> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<ModelUpdate> out) {
      if (r.value() == null) {
        return; // a tombstone withdraws nothing from a running job
      }
      try {
        TrustedPackages.ensureContractsTrusted();
        out.collect(Codecs.MODEL_UPDATE.decode(r.value()));
      } catch (RecordDecodingException e) {
        LOG.warn(
            "skipping an undecodable model update at {}-{}@{}: {}",
            r.topic(),
            r.partition(),
            r.offset(),
            e.getMessage());
      }
    }

    @Override
    public TypeInformation<ModelUpdate> getProducedType() {
      return new AvroTypeInfo<>(ModelUpdate.class);
    }
  }
}
