package dev.forecaster.job;

import static org.apache.flink.configuration.ConfigOptions.key;

import dev.forecaster.model.WindowPolicy;
import dev.forecaster.schemas.Topics;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.description.HtmlFormatter;

/**
 * Every setting of the job, with its type, default and description: one place, read once by {@link
 * JobConfig}. docs/CONFIGURATION.md is checked against this list ({@code ConfigurationDocTest});
 * keys prefixed {@code kafka.} pass through to every Kafka client.
 */
public final class JobOptions {

  private JobOptions() {}

  /** How forecasts and evaluations reach Kafka. */
  public enum Delivery {
    EXACTLY_ONCE,
    AT_LEAST_ONCE;

    @Override
    public String toString() { // Flink matches a setting's value against this, ignoring case
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Where the forward pass runs. */
  public enum Device {
    CPU,
    GPU,
    AUTO;

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final ConfigOption<String> BOOTSTRAP_SERVERS =
      key("bootstrap.servers")
          .stringType()
          .defaultValue("127.0.0.1:9092")
          .withDescription("Kafka bootstrap servers");

  public static final ConfigOption<String> READINGS_TOPIC =
      key("topic.readings")
          .stringType()
          .defaultValue(Topics.Defaults.READINGS)
          .withDescription("readings in (key: series id; Avro single-object `Reading`)");

  public static final ConfigOption<String> MODELS_TOPIC =
      key("topic.models")
          .stringType()
          .defaultValue(Topics.Defaults.MODELS)
          .withDescription("compacted model updates, read from the beginning");

  public static final ConfigOption<String> FORECASTS_TOPIC =
      key("topic.forecasts")
          .stringType()
          .defaultValue(Topics.Defaults.FORECASTS)
          .withDescription("forecasts out (key: series id)");

  public static final ConfigOption<String> EVALUATIONS_TOPIC =
      key("topic.evaluations")
          .stringType()
          .defaultValue(Topics.Defaults.EVALUATIONS)
          .withDescription("forecast vs actual, when the actual arrives");

  public static final ConfigOption<String> DEAD_LETTERS_TOPIC =
      key("topic.dead-letters")
          .stringType()
          .defaultValue(Topics.Defaults.DEAD_LETTERS)
          .withDescription("records the job could not use, with their reason");

  public static final ConfigOption<Integer> TOPIC_PARTITIONS =
      key("topic.partitions")
          .intType()
          .defaultValue(Topics.DEFAULT_PARTITIONS)
          .withDescription(
              "partitions of the topics the job creates when they are missing (models: 1);"
                  + " the job reads with at most one subtask per partition");

  public static final ConfigOption<String> GROUP_ID =
      key("group.id")
          .stringType()
          .defaultValue("forecaster-job")
          .withDescription("consumer group of the readings source");

  public static final ConfigOption<Integer> PARALLELISM =
      key("parallelism")
          .intType()
          .defaultValue(1)
          .withDescription(
              "job parallelism (one partition of readings per subtask is the natural fit)");

  public static final ConfigOption<Long> CHECKPOINT_INTERVAL_MS =
      key("checkpoint.interval.ms")
          .longType()
          .defaultValue(5000L)
          .withDescription(
              "checkpoints; exactly-once output becomes visible to `read_committed` consumers at"
                  + " each one");

  public static final ConfigOption<String> CHECKPOINT_DIR =
      key("checkpoint.dir")
          .stringType()
          .defaultValue("")
          .withDescription(
              "checkpoint storage (file system); empty: a `forecaster-checkpoints` folder under the"
                  + " temp dir; on a cluster a durable shared one, e.g. `s3://bucket/checkpoints`");

  public static final ConfigOption<String> STATE_BACKEND =
      key("state.backend")
          .stringType()
          .defaultValue("")
          .withDescription(
              "`hashmap` (state on the heap, every checkpoint a full copy) or `rocksdb` (state on"
                  + " local disk, incremental checkpoints); empty: the cluster's setting (Flink's"
                  + " default is hashmap). docs/DEPLOY.md says when to switch");

  public static final ConfigOption<Delivery> DELIVERY =
      key("delivery.guarantee")
          .enumType(Delivery.class)
          .defaultValue(Delivery.EXACTLY_ONCE)
          .withDescription(
              "or `at-least-once` for lower latency (consumers de-duplicate on the forecast id)");

  public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
      key("transactional.id.prefix")
          .stringType()
          .defaultValue("forecaster-job")
          .withDescription("must be unique per job on a cluster; each sink adds its own suffix");

  public static final ConfigOption<Long> TRANSACTION_TIMEOUT_MS =
      key("transaction.timeout.ms")
          .longType()
          .defaultValue(600_000L)
          .withDescription(
              "must stay below the broker's `transaction.max.timeout.ms` (15 minutes by default)");

  public static final ConfigOption<Integer> WINDOW_LENGTH =
      key("window.length")
          .intType()
          .defaultValue(WindowPolicy.DEFAULT_WINDOW_LENGTH)
          .withDescription("readings kept per series; a model reading more is rejected");

  public static final ConfigOption<Integer> GAP_MAX_DAYS =
      key("gap.max-days")
          .intType()
          .defaultValue(WindowPolicy.DEFAULT_MAX_GAP_DAYS)
          .withDescription("readings further apart than this are a gap (a weekend is not)");

  public static final ConfigOption<WindowPolicy.GapPolicy> GAP_POLICY =
      key("gap.policy")
          .enumType(WindowPolicy.GapPolicy.class)
          .defaultValue(WindowPolicy.GapPolicy.RESET)
          .withDescription(
              "`reset` starts the window anew after a gap; `carry-forward` fills the missing days"
                  + " with the last reading");

  public static final ConfigOption<Long> STATE_TTL_DAYS =
      key("state.ttl.days")
          .longType()
          .defaultValue(30L)
          .withDescription("a series silent this long (processing time) loses its window state");

  public static final ConfigOption<Integer> BATCH_SIZE =
      key("batch.size").intType().defaultValue(256).withDescription("windows per forward pass");

  public static final ConfigOption<Long> BATCH_TIMEOUT_MS =
      key("batch.timeout.ms")
          .longType()
          .defaultValue(10L)
          .withDescription("a partial batch is scored this long after its first window");

  public static final ConfigOption<Long> BUFFER_TIMEOUT_MS =
      key("buffer.timeout.ms")
          .longType()
          .defaultValue(5L)
          .withDescription(
              "longest wait of a record in a network buffer between operators (Flink's default of"
                  + " 100 ms would dominate the latency)");

  public static final ConfigOption<Long> SIDE_OUTPUTS_LINGER_MS =
      key("side-outputs.linger.ms")
          .longType()
          .defaultValue(20L)
          .withDescription(
              "at-least-once: `linger.ms` of the evaluations and dead-letter producers (not on a"
                  + " forecast's path; batching them spares the broker); the forecasts producer"
                  + " sends at once (`linger.ms=0`); `kafka.linger.ms` overrides all three");

  public static final ConfigOption<Device> DEVICE =
      key("device")
          .enumType(Device.class)
          .defaultValue(Device.AUTO)
          .withDescription(
              "`cpu`, `gpu` or `auto`; without a visible GPU `auto` scores on the CPU and logs it"
                  + " once, and `gpu` fails the job at start (`forecast job` says so and exits)");

  public static final ConfigOption<String> MODEL_NAME =
      key("model.name")
          .stringType()
          .defaultValue("")
          .withDescription(
              "the model every series is scored with; empty scores each reading with the model"
                  + " named as its `domain` (`weather`, `stock`)");

  public static final ConfigOption<String> REQUIRED_FEATURES =
      key("readings.required-features")
          .stringType()
          .defaultValue("")
          .withDescription(
              "features every reading must carry, comma-separated; a reading without one goes to"
                  + " the dead letters (`invalid`)");

  public static final ConfigOption<Integer> MAX_DAYS_AHEAD =
      key("readings.max-days-ahead")
          .intType()
          .defaultValue(WindowPolicy.DEFAULT_MAX_DAYS_AHEAD)
          .withDescription(
              "a reading more than this many days after today (UTC) is invalid and goes to the dead"
                  + " letters: a far-future day would make every real reading of its series late");

  public static final ConfigOption<Boolean> SCORING_ENABLED =
      key("scoring.enabled")
          .booleanType()
          .defaultValue(true)
          .withDescription(
              "`false` runs everything but the forward pass, with persistence standing in for the"
                  + " model (benchmarks measure the cost of scoring with it)");

  public static final ConfigOption<Integer> MAX_WAITING_WINDOWS =
      key("scoring.max-waiting-windows")
          .intType()
          .defaultValue(10_000)
          .withDescription(
              "windows per subtask that wait for a model not served yet (all are scored, in order,"
                  + " when it comes); beyond, the oldest are dropped (`waitingWindowsDropped`)");

  public static final ConfigOption<Integer> RECENT_READINGS =
      key("evaluation.recent-readings")
          .intType()
          .defaultValue(WindowPolicy.DEFAULT_WINDOW_LENGTH)
          .withDescription(
              "readings per series the evaluation keeps to meet late forecasts; more than the"
                  + " longest horizon");

  public static final ConfigOption<Integer> MAX_PENDING_DAYS =
      key("evaluation.max-pending-days")
          .intType()
          .defaultValue(60)
          .withDescription(
              "a forecast still waiting for its actual this many days after its base day (by the"
                  + " series' newest reading) is dropped as expired");

  /** What a valid value of an option is, in words, and the check. */
  record Rule<T>(ConfigOption<T> option, String expected, Predicate<T> valid) {}

  /** Every option in the order of docs/CONFIGURATION.md, with what a valid value is. */
  static final List<Rule<?>> RULES =
      List.of(
          new Rule<>(BOOTSTRAP_SERVERS, "host:port[,host:port...]", s -> !s.isBlank()),
          new Rule<>(READINGS_TOPIC, "a topic name", s -> !s.isBlank()),
          new Rule<>(MODELS_TOPIC, "a topic name", s -> !s.isBlank()),
          new Rule<>(FORECASTS_TOPIC, "a topic name", s -> !s.isBlank()),
          new Rule<>(EVALUATIONS_TOPIC, "a topic name", s -> !s.isBlank()),
          new Rule<>(DEAD_LETTERS_TOPIC, "a topic name", s -> !s.isBlank()),
          new Rule<>(TOPIC_PARTITIONS, "a whole number ≥ 1", n -> n >= 1),
          new Rule<>(GROUP_ID, "text", s -> !s.isBlank()),
          new Rule<>(PARALLELISM, "a whole number ≥ 1", n -> n >= 1),
          new Rule<>(CHECKPOINT_INTERVAL_MS, "milliseconds ≥ 10", n -> n >= 10),
          new Rule<>(CHECKPOINT_DIR, "a URI, or empty", s -> true),
          new Rule<>(
              STATE_BACKEND,
              "hashmap, rocksdb, or empty",
              s -> s.isEmpty() || s.equals("hashmap") || s.equals("rocksdb")),
          new Rule<>(DELIVERY, oneOf(Delivery.values()), d -> true),
          new Rule<>(TRANSACTIONAL_ID_PREFIX, "text", s -> !s.isBlank()),
          new Rule<>(TRANSACTION_TIMEOUT_MS, "milliseconds ≥ 1000", n -> n >= 1000),
          // a window's readings times its features must stay within what a restore accepts
          new Rule<>(
              WINDOW_LENGTH,
              "a whole number from 2 to 65536",
              n -> n >= 2 && n <= StateCoding.MAX_LENGTH / WindowPolicy.MAX_FEATURES),
          new Rule<>(GAP_MAX_DAYS, "a whole number ≥ 1", n -> n >= 1),
          new Rule<>(GAP_POLICY, oneOf(WindowPolicy.GapPolicy.values()), p -> true),
          new Rule<>(STATE_TTL_DAYS, "days ≥ 1", n -> n >= 1),
          new Rule<>(BATCH_SIZE, "a whole number ≥ 1", n -> n >= 1),
          new Rule<>(BATCH_TIMEOUT_MS, "milliseconds ≥ 1", n -> n >= 1),
          new Rule<>(BUFFER_TIMEOUT_MS, "milliseconds ≥ 0", n -> n >= 0),
          new Rule<>(SIDE_OUTPUTS_LINGER_MS, "milliseconds ≥ 0", n -> n >= 0),
          new Rule<>(DEVICE, oneOf(Device.values()), d -> true),
          new Rule<>(MODEL_NAME, "a model name, or empty", s -> true),
          new Rule<>(REQUIRED_FEATURES, "names, comma-separated, or empty", s -> true),
          new Rule<>(MAX_DAYS_AHEAD, "days ≥ 0", n -> n >= 0),
          new Rule<>(SCORING_ENABLED, "true or false", b -> true),
          new Rule<>(MAX_WAITING_WINDOWS, "a whole number ≥ 0", n -> n >= 0),
          new Rule<>(
              RECENT_READINGS,
              "a whole number from 2 to 32767",
              n -> n >= 2 && n <= Short.MAX_VALUE),
          new Rule<>(MAX_PENDING_DAYS, "a whole number ≥ 1", n -> n >= 1));

  /** Prefix of the settings passed to every Kafka client of the job. */
  public static final String KAFKA_PREFIX = "kafka.";

  static String oneOf(Object[] values) {
    return Arrays.stream(values).map(Object::toString).collect(Collectors.joining(", "));
  }

  /**
   * The table of every option (key, default, valid values, description) as docs/CONFIGURATION.md
   * shows it between its {@code options} markers.
   */
  static String markdownTable() {
    StringBuilder t =
        new StringBuilder("| key | default | valid values | what it does |\n|---|---|---|---|\n");
    for (Rule<?> r : RULES) {
      Object d = r.option().defaultValue();
      t.append("| `")
          .append(r.option().key())
          .append("` | ")
          .append(d == null || d.toString().isEmpty() ? "(empty)" : "`" + d + "`")
          .append(" | ")
          .append(r.expected())
          .append(" | ")
          .append(r.option().description().getBlocks().isEmpty() ? "" : descriptionText(r.option()))
          .append(" |\n");
    }
    t.append(
            "| `kafka.*` | | any Kafka client setting | passed to every Kafka client without the"
                + " prefix, e.g.")
        .append(
            " `kafka.security.protocol=SASL_SSL`, `kafka.sasl.mechanism=PLAIN`,"
                + " `kafka.sasl.jaas.config=...` |\n");
    return t.toString();
  }

  private static String descriptionText(ConfigOption<?> option) {
    return new HtmlFormatter().format(option.description());
  }

  /** The option of a key, or null. */
  static Rule<?> rule(String key) {
    return RULES.stream().filter(r -> r.option().key().equals(key)).findFirst().orElse(null);
  }
}
