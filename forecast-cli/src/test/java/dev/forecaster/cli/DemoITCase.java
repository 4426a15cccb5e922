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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
    // the round's trainers, seen as this JVM's child JVMs while the demo runs (the demo starts no
    // other process; the JDK gives no arguments of a command line longer than a page, and with
    // Maven's class path theirs is)
    Set<Long> trainers = ConcurrentHashMap.newKeySet();
    ScheduledExecutorService watch = Executors.newSingleThreadScheduledExecutor();
    watch.scheduleWithFixedDelay(
        () ->
            ProcessHandle.current()
                .children()
                .filter(p -> p.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .forEach(p -> trainers.add(p.pid())),
        0,
        100,
        TimeUnit.MILLISECONDS);

    int exit;
    try {
      exit =
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
    } finally {
      watch.shutdownNow();
    }

    assertThat(exit).as(cli.err.toString()).isZero();
    JsonNode json = new ObjectMapper().readTree(summary.toFile());
    assertThat(json.get("readings").asLong()).isEqualTo(1461 + 5105);
    // one forecast per window the trainer's policy cuts from the shipped files and horizon (the
    // demo's models forecast 3 readings ahead; windows that came before their model waited for
    // it), whichever version served it
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
    assertThat(json.get("forecasts").asLong()).isEqualTo(3 * windows);
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
      // per horizon; the series' headline figures are those of the next-day forecasts
      JsonNode h1 = s.get("liveByHorizon").get(0);
      assertThat(s.get("liveByHorizon"))
          .extracting(h -> h.get("horizon").asInt())
          .containsExactly(1, 2, 3);
      assertThat(s.get("liveByHorizon").get(2).get("evaluations").asLong()).isEqualTo(12);
      assertThat(s.get("liveByHorizon").get(2).get("coverage").has("0.95")).isTrue();
      assertThat(h1.get("mae").asDouble()).isEqualTo(s.get("liveMae").asDouble());
      assertThat(h1.get("persistenceMae").asDouble()).isEqualTo(s.get("persistenceMae").asDouble());
      assertThat(h1.get("coverage")).isEqualTo(s.get("liveCoverage"));
      // the version spans count the same forecasts they score: never more scored than made, and
      // together, per horizon, every live evaluation of that horizon
      for (JsonNode v : s.get("liveByVersion")) {
        assertThat(v.get("evaluations").asLong()).isLessThanOrEqualTo(v.get("forecasts").asLong());
      }
      for (JsonNode h : s.get("liveByHorizon")) {
        long scored = 0;
        for (JsonNode v : s.get("liveByVersion")) {
          if (v.get("horizon").asInt() == h.get("horizon").asInt()) {
            scored += v.get("evaluations").asLong();
          }
        }
        assertThat(scored)
            .as(series + " h" + h.get("horizon"))
            .isEqualTo(h.get("evaluations").asLong());
      }
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
        // per version and horizon: v1 h = 1, 2, 3, then v2 h = 1, 2, 3
        assertThat(spans).hasSize(6);
        assertThat(spans)
            .extracting(v -> v.get("version").asLong())
            .containsExactly(1L, 1L, 1L, 2L, 2L, 2L);
        assertThat(spans)
            .extracting(v -> v.get("horizon").asInt())
            .containsExactly(1, 2, 3, 1, 2, 3);
        assertThat(spans.get(3).get("firstBaseDay").asText())
            .isGreaterThan(spans.get(0).get("lastBaseDay").asText());
      } else {
        assertThat(spans).hasSize(3);
      }
    }
    // the first versions are closed forms (least squares, the drift or persistence); the round's
    // networks beat at least one of them
    assertThat(published).isPositive();
    String html = Files.readString(report);
    assertThat(html)
        .contains(
            "Live accuracy",
            "Seattle",
            "SP500",
            "data:image/png;base64,",
            "By model version and horizon",
            "Retraining during the live period");
    assertThat(cli.out.toString()).contains("live day  12/12");
    // the round: a `forecast trainer --once` per model, each in a JVM of its own, side by side
    assertThat(trainers).as("trainer processes of the round").hasSize(2);
    assertThat(cli.out.toString())
        .containsPattern("scheduled round at live day 6/12, [12] trainer process\\(es\\) at once")
        .containsPattern("trainer:  weather: (published|kept|not published)")
        .containsPattern("trainer:  stock: (published|kept|not published)");
    // the first versions: the search's closed forms, chosen on the history (a budget of 0)
    assertThat(cli.out.toString())
        .containsPattern("weather: first version, closed forms only \\((form|drift|persistence)")
        .containsPattern("stock: first version, closed forms only \\((form|drift|persistence)");
    assertThat(html).contains("first version, closed forms only");
  }
}
