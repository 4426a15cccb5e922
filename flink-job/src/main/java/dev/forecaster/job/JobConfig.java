package dev.forecaster.job;

import java.io.IOException;
import java.io.Reader;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The job's configuration, typed, with its defaults in one place. Built from a properties file
 * and {@code key=value} overrides; keys prefixed {@code kafka.} pass through to every Kafka
 * client (SASL/SSL settings, for example {@code kafka.security.protocol=SASL_SSL}).
 */
public final class JobConfig implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Every key with its default; a key outside this list (and outside kafka.*) is an error. */
  static final Map<String, String> DEFAULTS = defaults();

  public enum Delivery { EXACTLY_ONCE, AT_LEAST_ONCE }

  public enum GapPolicy { RESET, CARRY_FORWARD }

  public enum DeviceChoice { CPU, GPU, AUTO }

  private final Map<String, String> values;

  private JobConfig(Map<String, String> values) {
    this.values = Map.copyOf(values);
    validate();
  }

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("bootstrap.servers", "127.0.0.1:9092");
    d.put("topic.readings", "readings");
    d.put("topic.models", "models");
    d.put("topic.forecasts", "forecasts");
    d.put("topic.evaluations", "evaluations");
    d.put("topic.dead-letters", "readings.dlq");
    d.put("group.id", "forecaster-job");
    d.put("parallelism", "1");
    d.put("checkpoint.interval.ms", "5000");
    d.put("checkpoint.dir", "");
    d.put("delivery.guarantee", "exactly-once");
    d.put("transactional.id.prefix", "forecaster-job");
    d.put("transaction.timeout.ms", "600000");
    d.put("window.length", "16");
    d.put("gap.max-days", "4");
    d.put("gap.policy", "reset");
    d.put("state.ttl.days", "30");
    d.put("watermark.out-of-orderness.days", "1");
    d.put("watermark.idleness.ms", "2000");
    d.put("batch.size", "256");
    d.put("batch.timeout.ms", "10");
    d.put("buffer.timeout.ms", "5");
    d.put("side-outputs.linger.ms", "20");
    d.put("device", "auto");
    d.put("model.name", "");
    d.put("readings.required-features", "");
    d.put("scoring.enabled", "true");
    d.put("evaluation.recent-readings", "16");
    return d;
  }

  public static JobConfig defaultsOnly() {
    return of(Map.of());
  }

  /** The defaults with {@code overrides} on top. */
  public static JobConfig of(Map<String, String> overrides) {
    Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
    overrides.forEach((k, value) -> {
      if (!DEFAULTS.containsKey(k) && !k.startsWith("kafka.")) {
        throw new IllegalArgumentException("unknown job setting '" + k + "'; known: " + DEFAULTS.keySet()
            + " and kafka.* for Kafka client settings");
      }
      v.put(k, value.strip());
    });
    return new JobConfig(v);
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

  public JobConfig with(String key, String value) {
    Map<String, String> v = new LinkedHashMap<>(values);
    v.put(key, value);
    return of(v);
  }

  private void validate() {
    delivery();
    gapPolicy();
    device();
    if (!values.get("scoring.enabled").equals("true") && !values.get("scoring.enabled").equals("false")) {
      throw new IllegalArgumentException("scoring.enabled is true or false, not '" + values.get("scoring.enabled") + "'");
    }
    if (windowLength() < 2 || batchSize() < 1 || parallelism() < 1 || gapMaxDays() < 1) {
      throw new IllegalArgumentException("window.length ≥ 2, batch.size ≥ 1, parallelism ≥ 1, gap.max-days ≥ 1");
    }
    if (bootstrapServers().isBlank()) {
      throw new IllegalArgumentException("bootstrap.servers is empty");
    }
  }

  public String bootstrapServers() { return values.get("bootstrap.servers"); }
  public String readingsTopic() { return values.get("topic.readings"); }
  public String modelsTopic() { return values.get("topic.models"); }
  public String forecastsTopic() { return values.get("topic.forecasts"); }
  public String evaluationsTopic() { return values.get("topic.evaluations"); }
  public String deadLettersTopic() { return values.get("topic.dead-letters"); }
  public String groupId() { return values.get("group.id"); }
  public int parallelism() { return integer("parallelism"); }
  public long checkpointIntervalMs() { return Long.parseLong(values.get("checkpoint.interval.ms")); }
  public String checkpointDir() { return values.get("checkpoint.dir"); }
  public String transactionalIdPrefix() { return values.get("transactional.id.prefix"); }
  public String transactionTimeoutMs() { return values.get("transaction.timeout.ms"); }
  public int windowLength() { return integer("window.length"); }
  public int gapMaxDays() { return integer("gap.max-days"); }
  public Duration stateTtl() { return Duration.ofDays(Long.parseLong(values.get("state.ttl.days"))); }
  public Duration outOfOrderness() { return Duration.ofDays(Long.parseLong(values.get("watermark.out-of-orderness.days"))); }
  public Duration idleness() { return Duration.ofMillis(Long.parseLong(values.get("watermark.idleness.ms"))); }
  public int batchSize() { return integer("batch.size"); }
  public long batchTimeoutMs() { return Long.parseLong(values.get("batch.timeout.ms")); }
  public long bufferTimeoutMs() { return Long.parseLong(values.get("buffer.timeout.ms")); }

  /**
   * How long the evaluations and dead-letter producers wait to fill a batch: neither is on the
   * path of a forecast, and batching them saves the broker and the task managers much work.
   */
  public long sideOutputsLingerMs() { return Long.parseLong(values.get("side-outputs.linger.ms")); }
  public boolean scoringEnabled() { return Boolean.parseBoolean(values.get("scoring.enabled")); }
  public int recentReadings() { return integer("evaluation.recent-readings"); }

  /** The model every series is scored with; empty routes each reading to the model named as its domain. */
  public String modelName() { return values.get("model.name"); }

  /** Features every reading must carry (comma-separated); a reading without one is a dead letter. */
  public java.util.List<String> requiredFeatures() {
    String raw = values.get("readings.required-features");
    return raw.isBlank() ? java.util.List.of()
        : java.util.Arrays.stream(raw.split(",")).map(String::strip).filter(f -> !f.isEmpty()).toList();
  }

  public Delivery delivery() { return enumValue(Delivery.class, "delivery.guarantee"); }
  public GapPolicy gapPolicy() { return enumValue(GapPolicy.class, "gap.policy"); }
  public DeviceChoice device() { return enumValue(DeviceChoice.class, "device"); }

  /** The kafka.* settings without their prefix, for every Kafka client of the job. */
  public Properties kafkaClientProperties() {
    Properties p = new Properties();
    values.forEach((k, v) -> {
      if (k.startsWith("kafka.")) {
        p.setProperty(k.substring("kafka.".length()), v);
      }
    });
    return p;
  }

  private int integer(String key) {
    try {
      return Integer.parseInt(values.get(key));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be a whole number, not '" + values.get(key) + "'", e);
    }
  }

  private <E extends Enum<E>> E enumValue(Class<E> type, String key) {
    String raw = values.get(key);
    try {
      return Enum.valueOf(type, raw.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + " '" + raw + "' is not one of " + java.util.Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT).replace('_', '-'), e);
    }
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
