package dev.forecaster.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The project's topics, defined once: each one's default name, partitions and settings, and how
 * they are created. The job, every command and the compose stack's init create topics through here
 * ({@code forecast topics} prints and creates them).
 */
public enum Topics {
  /** Readings in (key: series id; Avro {@code Reading}). */
  READINGS(Defaults.READINGS, false, false),
  /** Forecasts out (key: series id). */
  FORECASTS(Defaults.FORECASTS, false, true),
  /** Forecasts scored against their actual (key: series id). */
  EVALUATIONS(Defaults.EVALUATIONS, false, true),
  /** Records the job could not use, with their reason. */
  DEAD_LETTERS(Defaults.DEAD_LETTERS, false, true),
  /**
   * Model updates, compacted by key {@code <name>/v<version>}: every version has its record, and
   * the publisher tombstones those beyond the newest few.
   */
  MODELS(Defaults.MODELS, true, false);

  /**
   * Default names as compile-time constants (for annotations such as picocli's {@code
   * defaultValue}).
   */
  public static final class Defaults {
    public static final String READINGS = "readings";
    public static final String FORECASTS = "forecasts";
    public static final String EVALUATIONS = "evaluations";
    public static final String DEAD_LETTERS = "readings.dlq";
    public static final String MODELS = "models";

    private Defaults() {}
  }

  /**
   * Partitions of every topic but {@code models}: the job reads with one subtask per partition at
   * most, so this bounds its useful parallelism; more can be added later (records of a series keep
   * their order only within a partition count).
   */
  public static final int DEFAULT_PARTITIONS = 2;

  /**
   * Largest record on the models topic (artifacts travel inline); the producer and readers agree.
   */
  public static final int MAX_MODEL_BYTES = 16 * 1024 * 1024;

  private final String defaultName;
  private final boolean compacted;
  private final boolean stampedOnArrival;

  Topics(String defaultName, boolean compacted, boolean stampedOnArrival) {
    this.defaultName = defaultName;
    this.compacted = compacted;
    this.stampedOnArrival = stampedOnArrival;
  }

  public String defaultName() {
    return defaultName;
  }

  /** Partitions the topic is created with, given the partitions asked for the data topics. */
  public int partitions(int dataPartitions) {
    return compacted ? 1 : dataPartitions;
  }

  /**
   * Topic-level settings it is created with. The job's output topics take the broker's append time
   * as each record's timestamp: retention counts from when a forecast was written, never from the
   * day it is about (a backfill of 2013 would otherwise be deleted at once).
   */
  public Map<String, String> configs() {
    if (compacted) {
      return Map.of(
          TopicConfig.CLEANUP_POLICY_CONFIG,
          TopicConfig.CLEANUP_POLICY_COMPACT,
          TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
          Integer.toString(MAX_MODEL_BYTES));
    }
    if (stampedOnArrival) {
      return Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime");
    }
    // the readings are the trainer's only history: kept, not deleted a week after they arrived
    return Map.of(TopicConfig.RETENTION_MS_CONFIG, "-1", TopicConfig.RETENTION_BYTES_CONFIG, "-1");
  }

  /** The topic as Kafka's admin client creates it, under {@code name}. */
  public NewTopic newTopic(String name, int dataPartitions) {
    return new NewTopic(name, partitions(dataPartitions), (short) -1).configs(configs());
  }

  /**
   * Fails with one clear line when no broker answers within {@code timeout} or one of the topics is
   * missing: for the commands that read topics others create.
   */
  public static void requireExisting(
      Map<String, Object> client, Collection<String> topics, Duration timeout) {
    Object servers = client.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    Set<String> existing =
        withAdmin(client, timeout, "list the topics", admin -> names(admin, timeout));
    List<String> missing = topics.stream().filter(t -> !existing.contains(t)).toList();
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "no topic "
              + String.join(", ", missing)
              + " at "
              + servers
              + " (`forecast topics` creates every topic; `forecast job` and `forecast replay`"
              + " create theirs)");
    }
  }

  /** An admin call that may block on the broker. */
  @FunctionalInterface
  private interface AdminCall<T> {
    T on(Admin admin) throws ExecutionException, TimeoutException, InterruptedException;
  }

  /**
   * Runs {@code call} with an admin client, turning what goes wrong into one line that names the
   * servers: none answering within the timeout, or the broker's own error.
   */
  private static <T> T withAdmin(
      Map<String, Object> client, Duration timeout, String what, AdminCall<T> call) {
    Properties p = new Properties();
    p.putAll(client);
    Object servers = client.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    try (Admin admin = Admin.create(p)) {
      return call.on(admin);
    } catch (TimeoutException e) {
      throw unreachable(servers, e);
    } catch (ExecutionException | KafkaException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
        throw unreachable(servers, e);
      }
      throw new IllegalStateException(
          "cannot " + what + " at " + servers + ": " + cause.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while trying to " + what + " at " + servers, e);
    }
  }

  private static Set<String> names(Admin admin, Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    return admin
        .listTopics(new ListTopicsOptions().timeoutMs((int) timeout.toMillis()))
        .names()
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static IllegalStateException unreachable(Object servers, Exception e) {
    return new IllegalStateException(
        "no Kafka broker answered at "
            + servers
            + " (check the bootstrap servers; `forecast broker` starts one on this machine)",
        e);
  }

  /** Every topic under its default name. */
  public static Map<Topics, String> defaultNames() {
    Map<Topics, String> names = new EnumMap<>(Topics.class);
    for (Topics t : values()) {
      names.put(t, t.defaultName);
    }
    return names;
  }

  /**
   * Creates those of {@code names} that do not exist, each with its partitions and settings;
   * returns the names created. Topics that exist are left as they are.
   *
   * @param client bootstrap servers and any client settings (SASL/SSL)
   * @param dataPartitions partitions of every topic but models
   * @throws IllegalStateException naming the address when no broker answers, or the cause when a
   *     topic cannot be created
   */
  public static List<String> ensure(
      Map<String, Object> client, Map<Topics, String> names, int dataPartitions, Duration timeout) {
    Object servers = client.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    List<String> created = new ArrayList<>();
    withAdmin(
        client,
        timeout,
        "create topics",
        admin -> {
          Set<String> existing = names(admin, timeout);
          for (Map.Entry<Topics, String> e : names.entrySet()) {
            if (existing.contains(e.getValue())) {
              continue;
            }
            NewTopic t = e.getKey().newTopic(e.getValue(), dataPartitions);
            try {
              admin.createTopics(List.of(t)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
              created.add(t.name());
            } catch (ExecutionException x) {
              if (!(x.getCause() instanceof TopicExistsException)) { // created meanwhile by another
                throw new IllegalStateException(
                    "cannot create topic " + t.name() + " at " + servers + ": " + x.getCause(), x);
              }
            }
          }
          return null;
        });
    return created;
  }
}
