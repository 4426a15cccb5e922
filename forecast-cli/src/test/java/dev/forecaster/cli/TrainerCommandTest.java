package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.forecaster.trainer.DriftMonitor;
import dev.forecaster.trainer.TrainerService;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The service's flags become its settings (no broker: no round is started). */
class TrainerCommandTest {

  private static TrainerService.Settings parse(String... args) {
    return TrainerCommand.parse(List.of(args));
  }

  @Test
  void flagsBecomeTheServicesSettings() {
    TrainerService.Settings s =
        parse(
            "--preset",
            "stock",
            "--every",
            "6h",
            "--drift-window",
            "10",
            "--drift-margin",
            "0.5",
            "--drift-cooldown",
            "30m",
            "--publish-first",
            "--epochs",
            "3");
    assertThat(s.template().name()).isEqualTo("stock");
    assertThat(s.training().epochs()).isEqualTo(3);
    assertThat(s.publishFirst()).isTrue();
    assertThat(s.drift()).isEqualTo(new DriftMonitor.Policy(10, 0.5, Duration.ofMinutes(30)));
    Instant t = Instant.parse("2026-11-25T00:00:00Z");
    assertThat(s.schedule().next(t)).isEqualTo(t.plus(Duration.ofHours(6)));
  }

  @Test
  void defaultsPublishOnlyABetterModelDailyWithDrift() {
    TrainerService.Settings s = parse();
    assertThat(s.template().name()).isEqualTo("weather");
    assertThat(s.publishFirst()).isFalse();
    assertThat(s.drift()).isEqualTo(new DriftMonitor.Policy(30, 0.25, Duration.ofHours(1)));
    assertThat(parse("--no-drift").drift()).isNull();
    Instant t = Instant.parse("2026-11-25T02:00:00Z");
    assertThat(parse("--cron", "0 3 * * *").schedule().next(t))
        .isEqualTo(Instant.parse("2026-11-25T03:00:00Z"));
  }

  @Test
  void aBadScheduleIsAUsageError() {
    assertThatThrownBy(() -> parse("--cron", "nightly"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("cron");
    assertThatThrownBy(() -> parse("--every", "6h", "--cron", "0 3 * * *"))
        .isInstanceOf(CommandLine.ParameterException.class);
    // one round now, or a schedule: not both
    assertThatThrownBy(() -> parse("--once", "--every", "6h"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("mutually exclusive");
    assertThatThrownBy(() -> parse("--every", "6h", "--reason", "nightly"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--reason goes with --once");
    assertThat(parse("--once", "--reason", "nightly cron").template().name()).isEqualTo("weather");
    // the service's own flags are refused with one round, not ignored
    assertThatThrownBy(() -> parse("--once", "--metrics-port", "9999", "--no-drift"))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageContaining("--metrics-port, --no-drift not with --once");
    Map<String, String> values =
        Map.of(
            "--metrics-port", "9999",
            "--metrics-host", "0.0.0.0",
            "--drift-window", "10",
            "--drift-margin", "0.5",
            "--drift-cooldown", "2h",
            "--retry-backoff", "5m");
    for (String flag : TrainerCommand.ONLY_FOR_THE_SERVICE) {
      List<String> flags = new ArrayList<>(List.of("--once", flag));
      if (values.containsKey(flag)) {
        flags.add(values.get(flag));
      }
      assertThatThrownBy(() -> parse(flags.toArray(String[]::new)))
          .as(flag)
          .hasMessageContaining(flag + " not with --once");
      assertThat(parse(flags.subList(1, flags.size()).toArray(String[]::new))).isNotNull();
    }
  }

  @Test
  void aMetricsPortInUseIsNamedBeforeAnythingStarts(@TempDir Path state) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CliRun cli = new CliRun();
      // no broker at 127.0.0.1:1 either: the port is checked first, and no round is begun
      int exit =
          cli.run(
              "trainer",
              "--bootstrap-servers",
              "127.0.0.1:1",
              "--metrics-port",
              Integer.toString(taken.getLocalPort()),
              "--state-dir",
              state.toString());
      assertThat(exit).isEqualTo(1);
      assertThat(cli.err.toString())
          .contains(
              "cannot serve metrics on 127.0.0.1:"
                  + taken.getLocalPort()
                  + " (--metrics-host, --metrics-port; port 0 turns the endpoint off): ");
      assertThat(state.resolve("decisions.jsonl")).doesNotExist();
    }
  }
}
