package dev.forecaster.cli;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.trainer.RoundRecord;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What a report shows, however it was gathered: the demo collects it while it runs, {@code forecast
 * report} reads it back from the topics.
 *
 * <p>Each forecast and each evaluation counts once, by its forecast id: at-least-once delivery
 * (after a failover) or a replay can write one twice, and a consumer de-duplicates on the id.
 *
 * @param readings readings that went into the readings topic
 * @param models one line per model (version): how it was trained and how it backtested
 * @param liveFrom per series, the first target day of its live period
 * @param rounds the trainer's rounds in the period, if known
 */
record ReportData(
    long readings,
    List<Forecast> forecasts,
    List<Evaluation> evaluations,
    List<DeadLetter> deadLetters,
    Map<String, String> models,
    Map<String, LocalDate> liveFrom,
    List<RoundRecord> rounds) {

  ReportData {
    forecasts = once(forecasts, Forecast::getForecastId);
    evaluations = once(evaluations, Evaluation::getForecastId);
  }

  /** The first record of each id, in order. */
  private static <T> List<T> once(List<T> records, Function<T, String> id) {
    Set<String> seen = new HashSet<>();
    return records.stream().filter(r -> seen.add(id.apply(r))).toList();
  }
}
