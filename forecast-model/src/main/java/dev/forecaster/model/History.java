package dev.forecaster.model;

import dev.forecaster.avro.Reading;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The readings of each series that the {@link WindowPolicy} takes, in the order they arrived:
 * invalid readings, duplicates (the first reading of a day stays) and late days are left out, as
 * the job sends them to the dead letters. Gaps and feature changes are kept as they are; {@link
 * Samples} cuts windows across them by the same policy.
 */
public final class History {

  private final Map<String, List<Reading>> bySeries;
  private final long invalid;
  private final long duplicates;
  private final long late;

  private History(Map<String, List<Reading>> bySeries, long invalid, long duplicates, long late) {
    this.bySeries = bySeries;
    this.invalid = invalid;
    this.duplicates = duplicates;
    this.late = late;
  }

  /**
   * The history of readings in the order they arrived (a topic's order per series).
   *
   * @param inArrivalOrder every reading, in the order the job would see it
   */
  public static History of(Iterable<Reading> inArrivalOrder) {
    Map<String, List<Reading>> taken = new LinkedHashMap<>();
    long invalid = 0;
    long duplicates = 0;
    long late = 0;
    for (Reading r : inArrivalOrder) {
      if (WindowPolicy.problem(r) != null) {
        invalid++;
        continue;
      }
      List<Reading> series = taken.computeIfAbsent(r.getSeriesId(), s -> new ArrayList<>());
      if (!series.isEmpty()) {
        int newest = (int) series.get(series.size() - 1).getDay().toEpochDay();
        switch (WindowPolicy.admit(newest, (int) r.getDay().toEpochDay())) {
          case DUPLICATE -> {
            duplicates++;
            continue;
          }
          case LATE -> {
            late++;
            continue;
          }
          case TAKE -> {}
        }
      }
      series.add(r);
    }
    Map<String, List<Reading>> frozen = new LinkedHashMap<>();
    taken.forEach((series, readings) -> frozen.put(series, List.copyOf(readings)));
    return new History(frozen, invalid, duplicates, late);
  }

  /**
   * The history of a file's readings as {@code forecast replay} sends them: {@link #inReplayOrder}.
   */
  public static History ofFile(Collection<Reading> readings) {
    return of(inReplayOrder(readings));
  }

  /**
   * The order in which a file's readings are replayed into the readings topic: oldest day first,
   * the file's order within a day (a file may list newest first).
   */
  public static List<Reading> inReplayOrder(Collection<Reading> readings) {
    List<Reading> sorted = new ArrayList<>(readings);
    sorted.sort(Comparator.comparing(Reading::getDay)); // stable
    return sorted;
  }

  /**
   * Only the series that have readings carrying every one of {@code features}: a topic shared by
   * several domains (weather stations and stock tickers) gives each model the series it reads. A
   * kept series keeps all its readings: a reading with other features still breaks its windows, as
   * it does in the job.
   */
  public History withFeatures(Collection<String> features) {
    Map<String, List<Reading>> kept = new LinkedHashMap<>();
    bySeries.forEach(
        (series, readings) -> {
          if (readings.stream().anyMatch(r -> carries(r, features))) {
            kept.put(series, readings);
          }
        });
    return new History(kept, invalid, duplicates, late);
  }

  /** Readings that carry every one of {@code features}. */
  public long readingsCarrying(Collection<String> features) {
    return bySeries.values().stream()
        .flatMap(List::stream)
        .filter(r -> carries(r, features))
        .count();
  }

  private static boolean carries(Reading r, Collection<String> features) {
    return r.getFeatures().keySet().containsAll(features);
  }

  /** The taken readings of each series, in arrival order (days strictly increasing). */
  public Map<String, List<Reading>> bySeries() {
    return bySeries;
  }

  /** The newest day of each series. */
  public Map<String, LocalDate> newestDays() {
    Map<String, LocalDate> newest = new LinkedHashMap<>();
    bySeries.forEach((s, r) -> newest.put(s, r.get(r.size() - 1).getDay()));
    return newest;
  }

  /** Readings taken. */
  public long readings() {
    return bySeries.values().stream().mapToLong(List::size).sum();
  }

  /** Readings left out as invalid (see {@link WindowPolicy#problem}). */
  public long invalid() {
    return invalid;
  }

  /** Readings of a day already taken, left out. */
  public long duplicates() {
    return duplicates;
  }

  /** Readings of a day older than their series' newest, left out. */
  public long late() {
    return late;
  }
}
