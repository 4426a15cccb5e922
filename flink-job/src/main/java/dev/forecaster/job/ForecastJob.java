package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import dev.forecaster.schemas.Topics;
import dev.forecaster.schemas.TrustedPackages;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the streaming job. {@code main} parses the configuration and runs {@link #run};
 * the same jar runs on a Flink cluster ({@code flink run}) or, through {@code forecast job}, on a
 * local mini cluster bound to 127.0.0.1.
 *
 * <p>Arguments: {@code [--config FILE] [key=value ...]} (see {@link JobConfig} for the keys).
 */
public final class ForecastJob {

  private ForecastJob() {}

  public static void main(String[] args) throws Exception {
    JobConfig config = parse(args);
    // as `forecast job` does: a bare Kafka gets the topics (models compacted) before the sinks need
    // them
    List<String> created = ensureTopics(config);
    if (!created.isEmpty()) {
      LoggerFactory.getLogger(ForecastJob.class).info("created topics {}", created);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    JobClient job = run(env, config, "forecaster");
    if (env.getConfiguration().get(DeploymentOptions.ATTACHED)) {
      job.getJobExecutionResult().get(); // `flink run` waits; `flink run -d` returns once submitted
    }
  }

  /**
   * Creates the job's topics that are missing, as {@link Topics} defines them; returns those
   * created.
   */
  public static List<String> ensureTopics(JobConfig config) {
    return Topics.ensure(
        config.kafkaClientMap(), config.topics(), config.topicPartitions(), Duration.ofSeconds(30));
  }

  static JobConfig parse(String[] args) throws IOException {
    Path file = null;
    Map<String, String> overrides = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        file = Path.of(args[++i]);
      } else if (args[i].contains("=")) {
        String[] kv = args[i].split("=", 2);
        overrides.put(kv[0].replaceFirst("^--", ""), kv[1]);
      } else {
        throw new IllegalArgumentException(
            "expected --config FILE or key=value, got '" + args[i] + "'");
      }
    }
    return JobConfig.load(file, overrides);
  }

  /** A local environment whose every server binds to 127.0.0.1 only (see below), no restore. */
  public static StreamExecutionEnvironment localEnvironment(JobConfig config) {
    return localEnvironment(config, null);
  }

  /**
   * Settings of a Flink cluster on this machine whose every server (REST on a free port, job
   * manager, task managers) binds to 127.0.0.1 only.
   */
  public static Map<String, String> loopbackOnly() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("rest.bind-address", "127.0.0.1");
    c.put("rest.address", "127.0.0.1");
    c.put("rest.port", "0");
    c.put("jobmanager.bind-host", "127.0.0.1");
    c.put("jobmanager.rpc.address", "127.0.0.1");
    c.put("taskmanager.bind-host", "127.0.0.1");
    c.put("taskmanager.host", "127.0.0.1");
    return c;
  }

  /**
   * A local environment whose every server binds to 127.0.0.1 only, checkpointing to {@link
   * LocalCheckpoints#folder} (job manager memory holds only 5 MB of state), restoring {@code
   * restoreFrom} when it is given.
   */
  public static StreamExecutionEnvironment localEnvironment(JobConfig config, Path restoreFrom) {
    Map<String, String> c = new LinkedHashMap<>(loopbackOnly());
    c.put("taskmanager.numberOfTaskSlots", Integer.toString(Math.max(1, config.parallelism())));
    if (config.stateBackend().equals("rocksdb")) {
      // RocksDB's memtables and block cache live in managed memory: a local cluster's default
      // (a fraction of a small total) makes it flush constantly
      c.put("taskmanager.memory.managed.size", "512m");
    }
    Configuration conf = Configuration.fromMap(c);
    conf.set(
        CheckpointingOptions.CHECKPOINTS_DIRECTORY,
        LocalCheckpoints.folder(config).toUri().toString());
    conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    if (restoreFrom != null) {
      conf.set(StateRecoveryOptions.SAVEPOINT_PATH, restoreFrom.toUri().toString());
    }
    return StreamExecutionEnvironment.createLocalEnvironment(config.parallelism(), conf);
  }

  /**
   * Builds the job on Kafka and starts it; the caller waits on, or cancels, the returned client.
   */
  public static JobClient run(StreamExecutionEnvironment env, JobConfig config, String name)
      throws Exception {
    return run(env, config, name, false);
  }

  /**
   * @param bounded read the topics up to their end offsets at start, then finish (benchmarks,
   *     backfills); otherwise run until cancelled
   */
  public static JobClient run(
      StreamExecutionEnvironment env, JobConfig config, String name, boolean bounded)
      throws Exception {
    define(env, config, bounded);
    return env.executeAsync(name);
  }

  /**
   * Adds the job to {@code env} without running it: for a caller that submits the graph itself (a
   * benchmark's own mini cluster).
   */
  public static void define(StreamExecutionEnvironment env, JobConfig config, boolean bounded) {
    TrustedPackages.ensureContractsTrusted();
    configure(env, config);
    DataStream<RawRecord> readings =
        env.fromSource(
                KafkaIo.readings(config, bounded), WatermarkStrategy.noWatermarks(), "readings")
            .uid("readings-source")
            .setParallelism(config.parallelism());
    DataStream<ModelUpdate> models =
        env.fromSource(KafkaIo.models(config, bounded), WatermarkStrategy.noWatermarks(), "models")
            .uid("models-source")
            .setParallelism(1);
    ForecastPipeline.Outputs out = ForecastPipeline.build(config, readings, models);
    attachSinks(config, out);
  }

  /**
   * The engine's floor, for the benchmarks: the same readings read, decoded and written to {@code
   * topic} exactly once, with the job's settings and nothing else (no keyBy, window, scoring or
   * evaluation; dead letters are left out). Bounded: it ends at the readings' end offsets.
   */
  public static JobClient runPassthrough(
      StreamExecutionEnvironment env, JobConfig config, String topic, String name)
      throws Exception {
    TrustedPackages.ensureContractsTrusted();
    configure(env, config);
    env.fromSource(KafkaIo.readings(config, true), WatermarkStrategy.noWatermarks(), "readings")
        .setParallelism(config.parallelism())
        .process(new ReadingDecoder(config))
        .name("decode readings")
        .map(event -> event.reading)
        .returns(new AvroTypeInfo<>(Reading.class))
        .name("reading")
        .sinkTo(
            KafkaIo.<Reading>sink(
                config, topic, Codecs.READING, Reading::getSeriesId, "passthrough", 0))
        .name("copy");
    return env.executeAsync(name);
  }

  static void configure(StreamExecutionEnvironment env, JobConfig config) {
    env.setParallelism(config.parallelism());
    // records wait at most this long in a network buffer between operators (Flink's default,
    // 100 ms, would dominate the latency of a forecast)
    env.setBufferTimeout(config.bufferTimeoutMs());
    env.enableCheckpointing(config.checkpointIntervalMs(), CheckpointingMode.EXACTLY_ONCE);
    // chained operators hand records over by reference instead of a deep Avro copy each (a sixth of
    // the scorer thread's time without it). Safe here: every operator emits new objects and none
    // changes an input. The scorer keeps its inputs in its batch only because, as a two-input
    // operator, it is never chained: its input always comes deserialized fresh from the network
    // (merging the window function into it would need copies). The evaluator keeps the scorer's
    // outputs, which the scorer never reuses.
    env.getConfig().enableObjectReuse();
    Configuration c = new Configuration();
    c.set(PipelineOptions.GENERIC_TYPES, false); // explicit serializers everywhere: never Kryo
    // a cancelled job keeps its last checkpoint, so that the next start can restore it
    c.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    if (!config.checkpointDir().isBlank()) {
      // given explicitly: it replaces the cluster's; otherwise the cluster's configuration decides
      // (a local environment gets a folder of its own, see localEnvironment)
      c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, config.checkpointDir());
      c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
    }
    if (!config.stateBackend().isBlank()) {
      // given explicitly: it replaces the cluster's; RocksDB then checkpoints incrementally (only
      // the files changed since the last checkpoint are uploaded)
      c.set(StateBackendOptions.STATE_BACKEND, config.stateBackend());
      c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, config.stateBackend().equals("rocksdb"));
    }
    env.configure(c);
  }

  static void attachSinks(JobConfig config, ForecastPipeline.Outputs out) {
    out.deadLetters()
        .sinkTo(
            KafkaIo.<DeadLetter>sink(
                config,
                config.deadLettersTopic(),
                Codecs.DEAD_LETTER,
                d -> d.getTopic() + "-" + d.getPartition(),
                "dead-letters",
                config.sideOutputsLingerMs()))
        .name("dead letters")
        .uid("dead-letters-sink");
    out.forecasts()
        .sinkTo(
            KafkaIo.<Forecast>sink(
                config,
                config.forecastsTopic(),
                Codecs.FORECAST,
                Forecast::getSeriesId,
                "forecasts",
                0))
        .name("forecasts")
        .uid("forecasts-sink");
    out.evaluations()
        .sinkTo(
            KafkaIo.<Evaluation>sink(
                config,
                config.evaluationsTopic(),
                Codecs.EVALUATION,
                Evaluation::getSeriesId,
                "evaluations",
                config.sideOutputsLingerMs()))
        .name("evaluations")
        .uid("evaluations-sink");
  }
}
