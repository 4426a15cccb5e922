package dev.forecaster.bench;

import dev.forecaster.schemas.TrustedPackages;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code forecast bench}: the speed benchmarks quoted in docs/BENCHMARKS.md. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Benchmarks; each prints JSON lines. All run on this machine, those of the job against a"
            + " Kafka broker on 127.0.0.1 (in-process, or a JVM of its own: latency --broker"
            + " process, chaos, soak); training-cost trains networks only.",
    subcommands = {
      ScoringBench.class,
      PipelineBench.class,
      LatencyBench.class,
      SwapBench.class,
      ChaosBench.class,
      SoakBench.class,
      TrainingCostBench.class
    })
public final class BenchCommand {

  public static void main(String[] args) {
    TrustedPackages.ensureContractsTrusted();
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }
}
