package dev.forecaster.trainer;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Readings grouped per series in day order, with duplicates (same series and day) resolved to
 * the last one read, as a compacted topic would.
 */
public final class History {

  private final Map<String, List<Reading>> bySeries;
  private final long duplicates;

  private History(Map<String, List<Reading>> bySeries, long duplicates) {
    this.bySeries = bySeries;
    this.duplicates = duplicates;
  }

  public static History of(Collection<Reading> readings) {
    Map<String, Map<LocalDate, Reading>> grouped = new LinkedHashMap<>();
    long duplicates = 0;
    for (Reading r : readings) {
      if (grouped.computeIfAbsent(r.getSeriesId(), s -> new LinkedHashMap<>()).put(r.getDay(), r) != null) {
        duplicates++;
      }
    }
    Map<String, List<Reading>> sorted = new LinkedHashMap<>();
    grouped.forEach((series, days) -> {
      List<Reading> list = new ArrayList<>(days.values());
      list.sort(Comparator.comparing(Reading::getDay));
      sorted.put(series, List.copyOf(list));
    });
    return new History(sorted, duplicates);
  }

  /**
   * Only the readings that carry every one of {@code features} as a finite number: a topic shared
   * by several domains (weather stations and stock tickers) gives each model the series it reads.
   * A reading without one is left out, as the job sends it to dead letters.
   */
  public History withFeatures(Collection<String> features) {
    Map<String, List<Reading>> kept = new LinkedHashMap<>();
    bySeries.forEach((series, readings) -> {
      List<Reading> ok = readings.stream().filter(r -> features.stream().allMatch(f -> {
        Double v = r.getFeatures().get(f);
        return v != null && Double.isFinite(v);
      })).toList();
      if (!ok.isEmpty()) {
        kept.put(series, ok);
      }
    });
    return new History(kept, duplicates);
  }

  public Map<String, List<Reading>> bySeries() {
    return bySeries;
  }

  public long readings() {
    return bySeries.values().stream().mapToLong(List::size).sum();
  }

  /** Readings that repeated a series and day already read (the later one was kept). */
  public long duplicates() {
    return duplicates;
  }
}
