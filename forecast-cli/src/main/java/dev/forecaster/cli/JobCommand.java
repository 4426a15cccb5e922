package dev.forecaster.cli;

import dev.forecaster.job.ForecastJob;
import dev.forecaster.job.JobConfig;
import dev.forecaster.job.LocalCheckpoints;
import dev.forecaster.job.SharedModels;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.flink.core.execution.JobClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code forecast job}: the streaming job on a local Flink mini cluster bound to 127.0.0.1. */
@Command(
    name = "job",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the forecasting job on a local Flink mini cluster (every port on 127.0.0.1) against a"
          + " Kafka broker, until Ctrl-C. Missing topics are created (models compacted).",
      "The same job runs on a Flink cluster: flink run -c dev.forecaster.job.ForecastJob"
          + " flink-job/target/forecaster-job.jar [--config FILE] [key=value ...]."
    })
final class JobCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Properties file with job settings (see docs/CONFIGURATION.md).")
  Path config;

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description = "Kafka bootstrap servers (default: 127.0.0.1:9092).")
  String bootstrapServers;

  @Option(
      names = "--fresh",
      description =
          "Start with empty windows instead of restoring the newest checkpoint of the last run.")
  boolean fresh;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "A job setting, e.g. --set batch.size=128 --set delivery.guarantee=at-least-once;"
              + " repeatable.")
  Map<String, String> settings = new LinkedHashMap<>();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, String> overrides = new LinkedHashMap<>(settings);
    if (bootstrapServers != null) {
      overrides.put("bootstrap.servers", bootstrapServers);
    }
    JobConfig jobConfig;
    try {
      jobConfig = JobConfig.load(config, overrides);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    SharedModels.device(jobConfig.device()); // device=gpu without a GPU: say so before starting
    List<String> created = ForecastJob.ensureTopics(jobConfig);
    if (!created.isEmpty()) {
      out.println("created topics " + created);
    }
    Path checkpoints = LocalCheckpoints.folder(jobConfig);
    Optional<Path> restore = fresh ? Optional.empty() : LocalCheckpoints.newest(checkpoints);
    out.println(
        restore
            .map(p -> "restoring the windows and models of the last run from " + p)
            .orElse(
                "no checkpoint to restore in " + checkpoints + ": starting with empty windows"));
    JobClient job =
        ForecastJob.run(
            ForecastJob.localEnvironment(jobConfig, restore.orElse(null)), jobConfig, "forecaster");
    Set<String> keep = new HashSet<>();
    keep.add(job.getJobID().toHexString());
    restore.ifPresent(p -> keep.add(p.getParent().getFileName().toString()));
    if (jobConfig.checkpointDir().isBlank()) {
      // only in the folder this command owns (one per consumer group): a checkpoint.dir the user
      // gave may hold other jobs' checkpoints
      LocalCheckpoints.prune(checkpoints, keep); // earlier runs: this run and its source stay
    }
    Thread stop = new Thread(() -> job.cancel().join(), "cancel-job");
    Runtime.getRuntime().addShutdownHook(stop);
    out.printf(
        "job %s running: readings from %s, forecasts to %s, evaluations to %s, checkpoints in %s"
            + " (Ctrl-C stops it)%n",
        job.getJobID(),
        jobConfig.readingsTopic(),
        jobConfig.forecastsTopic(),
        jobConfig.evaluationsTopic(),
        checkpoints);
    out.flush();
    try (BrokerWatch watch = BrokerWatch.start(jobConfig.kafkaClientMap(), out)) {
      job.getJobExecutionResult().get();
    }
    return 0;
  }
}
