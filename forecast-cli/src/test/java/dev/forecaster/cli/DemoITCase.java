package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.History;
import dev.forecaster.model.Samples;
import dev.forecaster.model.WindowPolicy;
import dev.forecaster.schemas.csv.BadRowPolicy;
import dev.forecaster.schemas.csv.CsvReadingReader;
import dev.forecaster.schemas.csv.DatasetPreset;
import dev.forecaster.trainer.TrainingPreset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, end to end in its quick mode: broker, replay, training, job, report.
 */
class DemoITCase {

  @TempDir Path dir;

  @Test
  void theQuickDemoForecastsEverySeriesLiveAndWritesItsReport() throws Exception {
    CliRun cli = new CliRun();
    Path report = dir.resolve("report.html");
    Path summary = dir.resolve("summary.json");

    int exit =
        cli.run(
            "demo",
            "--quick",
            "--live-days",
            "12",
            "--pace-ms",
            "50",
            "--report",
            report.toString(),
            "--summary-json",
            summary.toString());

    assertThat(exit).as(cli.err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(summary.toFile());
    assertThat(json.get("readings").asLong()).isEqualTo(1461 + 5105);
    // one forecast per window the trainer's policy cuts from the shipped files (windows that came
    // before their model waited for it), whichever version served it
    long windows = 0;
    for (DatasetPreset p : DatasetPreset.values()) {
      List<Reading> readings =
          new CsvReadingReader(p.mapping(), BadRowPolicy.FAIL)
              .readAll(CsvMappingOptions.dataDir().resolve(p.shippedFile()));
      windows +=
          Samples.windows(
                  History.ofFile(readings),
                  TrainingPreset.named(p.name()).spec(),
                  WindowPolicy.DEFAULT)
              .size();
    }
    assertThat(json.get("forecasts").asLong()).isEqualTo(windows);
    assertThat(json.get("evaluations").asLong()).isGreaterThanOrEqualTo(2 * 12);
    assertThat(json.get("deadLetters").asLong()).isZero();
    for (String series : List.of("Seattle", "SP500")) {
      JsonNode s = json.get("series").get(series);
      assertThat(s).as(series).isNotNull();
      assertThat(s.get("liveEvaluations").asLong()).as(series).isEqualTo(12);
      assertThat(s.get("liveMae").asDouble()).as(series).isPositive().isFinite();
      assertThat(s.get("persistenceMae").asDouble()).as(series).isPositive().isFinite();
      assertThat(s.get("modelVersions").get(0).asLong()).as(series).isEqualTo(1);
      // the trainer's models carry intervals: the live evaluations say how often they held
      assertThat(s.get("liveCoverage").fieldNames()).toIterable().containsExactly("0.8", "0.95");
      assertThat(s.get("liveCoverage").get("0.95").asDouble()).as(series).isBetween(0.0, 1.0);
      JsonNode h1 = s.get("liveByHorizon").get(0); // one horizon: the same figures as the series'
      assertThat(s.get("liveByHorizon")).hasSize(1);
      assertThat(h1.get("horizon").asInt()).isEqualTo(1);
      assertThat(h1.get("mae").asDouble()).isEqualTo(s.get("liveMae").asDouble());
      assertThat(h1.get("persistenceMae").asDouble()).isEqualTo(s.get("persistenceMae").asDouble());
      assertThat(h1.get("coverage")).isEqualTo(s.get("liveCoverage"));
    }
    // half-way through the live days the trainer's round ran for both models; a published
    // version takes over mid-stream: v1 up to a day, v2 after it, never back
    JsonNode rounds = json.get("trainerRounds");
    assertThat(rounds).hasSize(2);
    int published = 0;
    for (JsonNode round : rounds) {
      assertThat(round.get("trigger").asText()).isEqualTo("schedule");
      assertThat(round.get("decision").asText())
          .isIn("published", "kept_champion", "worse_than_persistence");
      String series = round.get("modelName").asText().equals("weather") ? "Seattle" : "SP500";
      JsonNode spans = json.get("series").get(series).get("liveByVersion");
      if (round.get("decision").asText().equals("published")) {
        published++;
        assertThat(round.get("version").asLong()).isEqualTo(2);
        assertThat(spans).hasSize(2);
        assertThat(spans.get(0).get("version").asLong()).isEqualTo(1);
        assertThat(spans.get(1).get("version").asLong()).isEqualTo(2);
        assertThat(spans.get(1).get("firstBaseDay").asText())
            .isGreaterThan(spans.get(0).get("lastBaseDay").asText());
      } else {
        assertThat(spans).hasSize(1);
      }
    }
    // the first versions are trained briefly on purpose: the full round beats at least one
    assertThat(published).isPositive();
    String html = Files.readString(report);
    assertThat(html)
        .contains(
            "Live accuracy",
            "Seattle",
            "SP500",
            "data:image/png;base64,",
            "Model versions in the live period",
            "Retraining during the live period");
    assertThat(cli.out.toString()).contains("live day  12/12");
  }
}
