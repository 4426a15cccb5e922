package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.job.JobOptions;
import dev.forecaster.job.SharedModels;
import dev.forecaster.model.DjlRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A user's mistake is one line that says what was tried and what to do, and a non-zero exit. */
class UserErrorsTest {

  private static final String NOBODY = "127.0.0.1:1"; // no broker listens there

  @TempDir Path dir;

  @Test
  void aMissingColumnIsOneLineNamingTheColumnsThereAre() throws Exception {
    Path file = csv("day,close", "2021-01-04,10");
    CliRun cli = new CliRun();

    int exit = cli.run(mapping("readings", file, "date", "close"));

    assertOneLine(cli, exit, "no column [date] in the header; its columns are [day, close]");
  }

  @Test
  void aBadDateFormatWithFailOnBadRowNamesTheRowAndTheFormat() throws Exception {
    Path file = csv("day,close", "04/01/2021,10");
    CliRun cli = new CliRun();

    int exit = cli.run(append(mapping("readings", file, "day", "close"), "--on-bad-row", "fail"));

    assertOneLine(cli, exit, "bad date '04/01/2021' in column 'day' (expected yyyy-MM-dd)");
  }

  @Test
  void anUnknownPresetNamesTheKnownOnes() {
    CliRun cli = new CliRun();

    int exit = cli.run("readings", "--preset", "wether");

    assertOneLine(cli, exit, "unknown preset 'wether'; known: [weather, stock]");
  }

  @Test
  void aNegativeBudgetSaysWhatABudgetMayBe() {
    CliRun cli = new CliRun();

    int exit = cli.run("train", "--preset", "weather", "--no-publish", "--budget", "PT-5S");

    assertOneLine(cli, exit, "--budget is 0s (closed forms only) or more, got 'PT-5S'");
  }

  @Test
  void aReplayOfWhichNoRowCouldBeReadFails() throws Exception {
    Path file = csv("day,close", "04/01/2021,10", "05/01/2021,11");
    CliRun cli = new CliRun();

    int exit =
        cli.run(append(mapping("replay", file, "day", "close"), "--bootstrap-servers", NOBODY));

    assertOneLine(cli, exit, "no reading could be read from " + file);
  }

  @Test
  void theReadersNameAnUnreachableBrokerWithinHalfAMinute() throws Exception {
    List<String[]> commands =
        List.of(
            new String[] {"tail", "--bootstrap-servers", NOBODY},
            new String[] {"report", "--bootstrap-servers", NOBODY, "--output", dir + "/r.html"},
            new String[] {
              "train", "--from-kafka", "--preset", "weather", "--bootstrap-servers", NOBODY
            });
    long started = System.nanoTime();
    List<CompletableFuture<Void>> runs =
        commands.stream()
            .map(
                args ->
                    CompletableFuture.runAsync(
                        () -> {
                          CliRun cli = new CliRun();
                          int exit = cli.run(args);
                          assertOneLine(cli, exit, "no Kafka broker answered at " + NOBODY);
                        }))
            .toList();
    CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).join();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void deviceGpuWithoutAGpuIsAnErrorBeforeTheJobStarts() {
    Assumptions.assumeTrue(DjlRuntime.engine().getGpuCount() == 0, "this machine has a GPU");
    CliRun cli = new CliRun();

    int exit = cli.run("job", "--bootstrap-servers", NOBODY, "--set", "device=gpu");

    assertOneLine(cli, exit, "device=gpu, but PyTorch sees no GPU here");
    // auto falls back to the CPU
    assertThat(SharedModels.device(JobOptions.Device.AUTO).isGpu()).isFalse();
  }

  private static void assertOneLine(CliRun cli, int exit, String says) {
    String err = cli.err.toString();
    assertThat(exit).as(err).isEqualTo(1);
    assertThat(err).contains(says).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(err.strip().lines()).as(err).hasSize(1);
  }

  private Path csv(String... lines) throws Exception {
    Path file = Files.createTempFile(dir, "series", ".csv");
    Files.write(file, List.of(lines));
    return file;
  }

  private static String[] mapping(String command, Path file, String time, String features) {
    return new String[] {
      command,
      "--csv",
      file.toString(),
      "--series-id",
      "X",
      "--time-column",
      time,
      "--features",
      features
    };
  }

  private static String[] append(String[] args, String... more) {
    String[] all = java.util.Arrays.copyOf(args, args.length + more.length);
    System.arraycopy(more, 0, all, args.length, more.length);
    return all;
  }
}
