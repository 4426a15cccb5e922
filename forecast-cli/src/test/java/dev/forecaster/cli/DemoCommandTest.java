package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's first command, end to end in its quick mode: broker, replay, training, job, report. */
class DemoCommandTest {

  @TempDir Path dir;

  @Test
  void theQuickDemoForecastsEverySeriesLiveAndWritesItsReport() throws Exception {
    CliRun cli = new CliRun();
    Path report = dir.resolve("report.html");
    Path summary = dir.resolve("summary.json");

    int exit = cli.run("demo", "--quick", "--live-days", "12", "--pace-ms", "50",
        "--report", report.toString(), "--summary-json", summary.toString());

    assertThat(exit).as(cli.err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(summary.toFile());
    assertThat(json.get("readings").asLong()).isEqualTo(1461 + 5105);
    // history windows that reached the job before its models were served wait as the latest per
    // series only, so the total varies; the live part does not
    assertThat(json.get("forecasts").asLong()).isGreaterThanOrEqualTo(2 * 12);
    assertThat(json.get("evaluations").asLong()).isGreaterThanOrEqualTo(2 * 12);
    assertThat(json.get("deadLetters").asLong()).isZero();
    for (String series : List.of("Seattle", "SP500")) {
      JsonNode s = json.get("series").get(series);
      assertThat(s).as(series).isNotNull();
      assertThat(s.get("liveEvaluations").asLong()).as(series).isEqualTo(12);
      assertThat(s.get("liveMae").asDouble()).as(series).isPositive().isFinite();
      assertThat(s.get("persistenceMae").asDouble()).as(series).isPositive().isFinite();
      assertThat(s.get("modelVersions").get(0).asLong()).as(series).isEqualTo(1);
    }
    String html = Files.readString(report);
    assertThat(html).contains("Live accuracy", "Seattle", "SP500", "data:image/png;base64,");
    assertThat(cli.out.toString()).contains("live day  12/12");
  }
}
