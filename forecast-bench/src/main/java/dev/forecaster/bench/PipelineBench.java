package dev.forecaster.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Reading;
import dev.forecaster.cli.ReadingsProducer;
import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.job.LocalCheckpoints;
import dev.forecaster.model.ModelSpec;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import org.apache.kafka.clients.producer.KafkaProducer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The whole job, with and without scoring, and the engine alone (decode and copy), over the same
 * readings in Kafka.
 */
@Command(
    name = "pipeline",
    mixinStandardHelpOptions = true,
    description =
        "Readings per second through the whole job (exactly-once) with scoring, with scoring"
            + " switched off, and through a bare copy of the readings (decode, write back,"
            + " exactly-once).")
final class PipelineBench implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--series",
      defaultValue = "10000",
      description = "Series (default: ${DEFAULT-VALUE}).")
  int series;

  @Option(
      names = "--readings",
      defaultValue = "1000000",
      description = "Readings in all (default: ${DEFAULT-VALUE}).")
  int readings;

  @Option(
      names = "--parallelism",
      defaultValue = "2",
      description = "Job parallelism and partitions (default: ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(
      names = "--rounds",
      defaultValue = "2",
      description =
          "Runs of each job, alternating; the best of each counts (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Mixin ModelOption modelOption;

  @Option(
      names = "--state-backend",
      paramLabel = "hashmap|rocksdb",
      defaultValue = "hashmap",
      description =
          "The jobs' state backend (rocksdb: incremental checkpoints) (default: ${DEFAULT-VALUE}).")
  String stateBackend;

  @Option(
      names = "--scored-only",
      description =
          "Run only the scored job (state at scale): no unscored job, no bare copy, no ratios.")
  boolean scoredOnly;

  @Option(
      names = "--checkpoint-interval-ms",
      defaultValue = "2000",
      description = "The jobs' checkpoint interval (default: ${DEFAULT-VALUE}).")
  long checkpointIntervalMs;

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    if (rounds < 1 || series < 1 || readings < series) {
      throw new ParameterException(
          spec.commandLine(), "--rounds and --series are at least 1, --readings at least --series");
    }
    try (BenchBroker broker = BenchBroker.inProcess()) {
      JobConfig scored =
          BenchSupport.topics(
              broker,
              "scored",
              parallelism,
              Map.of(
                  "checkpoint.interval.ms",
                  Long.toString(checkpointIntervalMs),
                  "state.backend",
                  stateBackend));
      ModelSpec model = modelOption.spec("bench");
      BenchSupport.publishModel(broker.bootstrapServers(), scored.modelsTopic(), model);
      int days = readings / series;
      produce(broker, scored, days, err);
      JobConfig copy = scored.with("topic.forecasts", "scored-passthrough");
      ForecastJob.ensureTopics(copy);
      double without = 0;
      double withScoring = 0;
      double bare = 0;
      Stats stats = null;
      for (int round = 1; round <= rounds; round++) { // alternating, so warm-up and noise hit all
        if (!scoredOnly) {
          bare = Math.max(bare, passthrough(copy, round, err, days * series));
          without = Math.max(without, run(unscored(scored, round), "unscored", err, days * series));
        }
        JobConfig scoredRound =
            scored
                .with("group.id", "scored-" + round)
                .with("transactional.id.prefix", "scored-" + round);
        CheckpointWatch watch = new CheckpointWatch(LocalCheckpoints.folder(scoredRound));
        try {
          withScoring = Math.max(withScoring, run(scoredRound, "scored", err, days * series));
        } finally {
          watch.close(); // after its last look at the folder
        }
        stats = new Stats(watch.durationsMs(), watch.largest());
      }
      ObjectNode out = BenchSupport.JSON.createObjectNode();
      out.put("scoredPerSecond", Math.round(withScoring));
      if (!scoredOnly) {
        out.put("unscoredPerSecond", Math.round(without));
        out.put("ratio", Math.round(withScoring / without * 1000) / 1000.0);
        out.put("passthroughPerSecond", Math.round(bare));
        out.put("scoredToPassthrough", Math.round(withScoring / bare * 1000) / 1000.0);
      }
      out.put("stateBackend", stateBackend);
      out.put("checkpointIntervalMs", checkpointIntervalMs);
      stats.report(out, series);
      out.put("readings", days * series);
      out.put("series", series);
      out.put("parallelism", parallelism);
      out.put("model", modelOption.model);
      out.put("networks", model.members() * model.horizons());
      out.put("horizons", model.horizons());
      spec.commandLine().getOut().println(out);
    }
    return 0;
  }

  /** The checkpoints of the last scored run. */
  private record Stats(List<Long> durationsMs, Optional<CheckpointWatch.Sizes> largest) {

    void report(ObjectNode out, int series) {
      out.put("checkpoints", durationsMs.size());
      List<Long> sorted = durationsMs.stream().sorted().toList();
      if (!sorted.isEmpty()) {
        out.put("checkpointMedianMs", sorted.get(sorted.size() / 2));
        out.put("checkpointMaxMs", sorted.get(sorted.size() - 1));
      }
      largest.ifPresent(
          s -> {
            out.put("stateBytes", s.stateBytes());
            out.put("stateBytesPerSeries", Math.round((double) s.stateBytes() / series));
            out.put("itsCheckpointWrittenBytes", s.writtenBytes());
          });
    }
  }

  private void produce(BenchBroker broker, JobConfig config, int days, PrintWriter err)
      throws Exception {
    List<Reading> seattle = BenchSupport.seattle();
    long t0 = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer =
        ReadingsProducer.open(broker.bootstrapServers(), 20, 512 * 1024)) {
      for (int d = 0; d < days; d++) {
        for (int s = 0; s < series; s++) {
          producer.send(
              ReadingsProducer.record(
                  config.readingsTopic(), BenchSupport.synthetic(seattle, s, d)));
        }
      }
      producer.flush();
    }
    err.printf("produced %d readings in %.1f s%n", days * series, (System.nanoTime() - t0) / 1e9);
  }

  /** The same job on the same readings with only the forward pass switched off. */
  private static JobConfig unscored(JobConfig scored, int round) {
    return scored
        .with("scoring.enabled", "false")
        .with("group.id", "unscored-" + round)
        .with("transactional.id.prefix", "unscored-" + round);
  }

  /**
   * The same readings through the engine alone: read, decoded and written back exactly once with
   * the job's settings, no keyBy (see {@link ForecastJob#runPassthrough}).
   */
  private static double passthrough(JobConfig copy, int round, PrintWriter err, long readings)
      throws Exception {
    JobConfig config =
        copy.with("group.id", "passthrough-" + round)
            .with("transactional.id.prefix", "passthrough-" + round);
    long start = System.nanoTime();
    JobClient job =
        ForecastJob.runPassthrough(
            ForecastJob.localEnvironment(config), config, config.forecastsTopic(), "passthrough");
    job.getJobExecutionResult().get();
    double seconds = (System.nanoTime() - start) / 1e9;
    err.printf("passthrough: %d readings in %.1f s (job start included)%n", readings, seconds);
    err.flush();
    return readings / seconds;
  }

  private static double run(JobConfig config, String name, PrintWriter err, long readings)
      throws Exception {
    long start = System.nanoTime();
    JobClient job = ForecastJob.run(ForecastJob.localEnvironment(config), config, name, true);
    job.getJobExecutionResult().get();
    double seconds = (System.nanoTime() - start) / 1e9;
    err.printf("%s: %d readings in %.1f s (job start included)%n", name, readings, seconds);
    err.flush();
    return readings / seconds;
  }
}
