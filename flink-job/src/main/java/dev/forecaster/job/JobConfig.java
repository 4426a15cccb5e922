package dev.forecaster.job;

import static dev.forecaster.job.JobOptions.KAFKA_PREFIX;

import dev.forecaster.model.WindowPolicy;
import dev.forecaster.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

/**
 * The job's configuration: the {@link JobOptions} read once from a properties file and {@code
 * key=value} overrides, typed and checked. A value that does not parse or is out of range fails
 * here, naming its key and what it expects; an unknown key fails listing the known ones. Keys
 * prefixed {@code kafka.} pass through to every Kafka client (SASL/SSL settings, for example {@code
 * kafka.security.protocol=SASL_SSL}).
 */
public final class JobConfig implements Serializable {

  private static final long serialVersionUID = 2L;

  /** What was given, for {@link #with} and {@link #toString}. */
  private final Map<String, String> given;

  private final String bootstrapServers;
  private final Map<Topics, String> topics;
  private final int topicPartitions;
  private final String groupId;
  private final int parallelism;
  private final long checkpointIntervalMs;
  private final String checkpointDir;
  private final String stateBackend;
  private final JobOptions.Delivery delivery;
  private final String transactionalIdPrefix;
  private final long transactionTimeoutMs;
  private final int windowLength;
  private final WindowPolicy windowPolicy;
  private final long stateTtlDays;
  private final int batchSize;
  private final long batchTimeoutMs;
  private final long bufferTimeoutMs;
  private final long sideOutputsLingerMs;
  private final JobOptions.Device device;
  private final String modelName;
  private final List<String> requiredFeatures;
  private final boolean scoringEnabled;
  private final int maxDaysAhead;
  private final int maxWaitingWindows;
  private final int recentReadings;
  private final int maxPendingDays;
  private final Properties kafka;

  private JobConfig(Map<String, String> given) {
    this.given = Map.copyOf(given);
    Map<String, String> options = new LinkedHashMap<>();
    Properties kafka = new Properties();
    given.forEach(
        (k, v) -> {
          if (k.startsWith(KAFKA_PREFIX)) {
            kafka.setProperty(k.substring(KAFKA_PREFIX.length()), v);
          } else if (k.startsWith("watermark.")) {
            throw new IllegalArgumentException(
                "job setting '"
                    + k
                    + "' is gone: no operator uses event time, as each series keeps its own"
                    + " calendar; a quiet series is cleared by state.ttl.days. Remove it.");
          } else if (JobOptions.rule(k) == null) {
            throw new IllegalArgumentException(
                "unknown job setting '"
                    + k
                    + "'; known: "
                    + JobOptions.RULES.stream().map(r -> r.option().key()).toList()
                    + " and kafka.* for Kafka client settings");
          } else {
            options.put(k, v.strip());
          }
        });
    Configuration c = Configuration.fromMap(options);
    this.kafka = kafka;
    bootstrapServers = read(c, JobOptions.BOOTSTRAP_SERVERS);
    topics = new EnumMap<>(Topics.class);
    topics.put(Topics.READINGS, read(c, JobOptions.READINGS_TOPIC));
    topics.put(Topics.MODELS, read(c, JobOptions.MODELS_TOPIC));
    topics.put(Topics.FORECASTS, read(c, JobOptions.FORECASTS_TOPIC));
    topics.put(Topics.EVALUATIONS, read(c, JobOptions.EVALUATIONS_TOPIC));
    topics.put(Topics.DEAD_LETTERS, read(c, JobOptions.DEAD_LETTERS_TOPIC));
    topicPartitions = read(c, JobOptions.TOPIC_PARTITIONS);
    groupId = read(c, JobOptions.GROUP_ID);
    parallelism = read(c, JobOptions.PARALLELISM);
    checkpointIntervalMs = read(c, JobOptions.CHECKPOINT_INTERVAL_MS);
    checkpointDir = read(c, JobOptions.CHECKPOINT_DIR);
    stateBackend = read(c, JobOptions.STATE_BACKEND);
    delivery = read(c, JobOptions.DELIVERY);
    transactionalIdPrefix = read(c, JobOptions.TRANSACTIONAL_ID_PREFIX);
    transactionTimeoutMs = read(c, JobOptions.TRANSACTION_TIMEOUT_MS);
    windowLength = read(c, JobOptions.WINDOW_LENGTH);
    windowPolicy =
        new WindowPolicy(read(c, JobOptions.GAP_MAX_DAYS), read(c, JobOptions.GAP_POLICY));
    stateTtlDays = read(c, JobOptions.STATE_TTL_DAYS);
    batchSize = read(c, JobOptions.BATCH_SIZE);
    batchTimeoutMs = read(c, JobOptions.BATCH_TIMEOUT_MS);
    bufferTimeoutMs = read(c, JobOptions.BUFFER_TIMEOUT_MS);
    sideOutputsLingerMs = read(c, JobOptions.SIDE_OUTPUTS_LINGER_MS);
    device = read(c, JobOptions.DEVICE);
    modelName = read(c, JobOptions.MODEL_NAME);
    requiredFeatures =
        Arrays.stream(read(c, JobOptions.REQUIRED_FEATURES).split(","))
            .map(String::strip)
            .filter(f -> !f.isEmpty())
            .toList();
    scoringEnabled = read(c, JobOptions.SCORING_ENABLED);
    maxDaysAhead = read(c, JobOptions.MAX_DAYS_AHEAD);
    maxWaitingWindows = read(c, JobOptions.MAX_WAITING_WINDOWS);
    recentReadings = read(c, JobOptions.RECENT_READINGS);
    maxPendingDays = read(c, JobOptions.MAX_PENDING_DAYS);
  }

  /** The value of an option, parsed and checked against its rule; the error names the key. */
  @SuppressWarnings("unchecked")
  private static <T> T read(Configuration c, ConfigOption<T> option) {
    JobOptions.Rule<T> rule = (JobOptions.Rule<T>) JobOptions.rule(option.key());
    T value;
    try {
      value = c.get(option);
    } catch (IllegalArgumentException e) {
      throw bad(option, rule, c);
    }
    if (!rule.valid().test(value)) {
      throw bad(option, rule, c);
    }
    return value;
  }

  private static IllegalArgumentException bad(
      ConfigOption<?> option, JobOptions.Rule<?> rule, Configuration c) {
    return new IllegalArgumentException(
        "job setting "
            + option.key()
            + ": expected "
            + rule.expected()
            + ", got '"
            + c.toMap().get(option.key())
            + "'");
  }

  public static JobConfig defaultsOnly() {
    return of(Map.of());
  }

  /** The defaults with {@code overrides} on top. */
  public static JobConfig of(Map<String, String> overrides) {
    return new JobConfig(overrides);
  }

  /** A properties file (may be null), then overrides. */
  public static JobConfig load(Path file, Map<String, String> overrides) throws IOException {
    Map<String, String> merged = new LinkedHashMap<>();
    if (file != null) {
      Properties p = new Properties();
      try (Reader in = Files.newBufferedReader(file)) {
        p.load(in);
      }
      p.stringPropertyNames().forEach(k -> merged.put(k, p.getProperty(k)));
    }
    merged.putAll(overrides);
    return of(merged);
  }

  /** The settings given (not the defaults), as {@code --set KEY=VALUE} would give them again. */
  public Map<String, String> toMap() {
    return Map.copyOf(given);
  }

  /** This configuration with one more setting. */
  public JobConfig with(String key, String value) {
    Map<String, String> v = new LinkedHashMap<>(given);
    v.put(key, value);
    return of(v);
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The name of each of the job's topics. */
  public Map<Topics, String> topics() {
    return new EnumMap<>(topics);
  }

  public String readingsTopic() {
    return topics.get(Topics.READINGS);
  }

  public String modelsTopic() {
    return topics.get(Topics.MODELS);
  }

  public String forecastsTopic() {
    return topics.get(Topics.FORECASTS);
  }

  public String evaluationsTopic() {
    return topics.get(Topics.EVALUATIONS);
  }

  public String deadLettersTopic() {
    return topics.get(Topics.DEAD_LETTERS);
  }

  public int topicPartitions() {
    return topicPartitions;
  }

  public String groupId() {
    return groupId;
  }

  public int parallelism() {
    return parallelism;
  }

  public long checkpointIntervalMs() {
    return checkpointIntervalMs;
  }

  public String checkpointDir() {
    return checkpointDir;
  }

  /** {@code hashmap}, {@code rocksdb}, or empty for the cluster's own setting. */
  public String stateBackend() {
    return stateBackend;
  }

  public JobOptions.Delivery delivery() {
    return delivery;
  }

  public String transactionalIdPrefix() {
    return transactionalIdPrefix;
  }

  public long transactionTimeoutMs() {
    return transactionTimeoutMs;
  }

  public int windowLength() {
    return windowLength;
  }

  /** Which readings make a window: gaps, duplicates, late days (shared with the trainer). */
  public WindowPolicy windowPolicy() {
    return windowPolicy;
  }

  public Duration stateTtl() {
    return Duration.ofDays(stateTtlDays);
  }

  public int batchSize() {
    return batchSize;
  }

  public long batchTimeoutMs() {
    return batchTimeoutMs;
  }

  public long bufferTimeoutMs() {
    return bufferTimeoutMs;
  }

  /**
   * How long the evaluations and dead-letter producers wait to fill a batch: neither is on the path
   * of a forecast, and batching them saves the broker and the task managers much work.
   */
  public long sideOutputsLingerMs() {
    return sideOutputsLingerMs;
  }

  public JobOptions.Device device() {
    return device;
  }

  /**
   * The model every series is scored with; empty routes each reading to the model named as its
   * domain.
   */
  public String modelName() {
    return modelName;
  }

  /** Features every reading must carry; a reading without one is a dead letter. */
  public List<String> requiredFeatures() {
    return requiredFeatures;
  }

  /** Days after today a reading may be of. */
  public int maxDaysAhead() {
    return maxDaysAhead;
  }

  public boolean scoringEnabled() {
    return scoringEnabled;
  }

  public int maxWaitingWindows() {
    return maxWaitingWindows;
  }

  public int recentReadings() {
    return recentReadings;
  }

  public int maxPendingDays() {
    return maxPendingDays;
  }

  /** The kafka.* settings without their prefix, for every Kafka client of the job. */
  public Properties kafkaClientProperties() {
    Properties p = new Properties();
    p.putAll(kafka);
    return p;
  }

  /** Bootstrap servers and the kafka.* settings, for an admin client. */
  public Map<String, Object> kafkaClientMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    kafka.forEach((k, v) -> m.put((String) k, v));
    m.put("bootstrap.servers", bootstrapServers);
    return m;
  }

  @Override
  public String toString() {
    return given.toString();
  }
}
