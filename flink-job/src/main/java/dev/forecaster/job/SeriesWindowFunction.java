package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import dev.forecaster.model.WindowPolicy;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keeps, per series, a sliding window of its last {@code window.length} readings and emits it after
 * every new reading, by the {@link WindowPolicy} the trainer cuts its windows with: a reading of
 * the window's newest day is a duplicate and one of an older day is late (both go to the dead
 * letters and yield no forecast); a gap longer than {@code gap.max-days} resets the window or
 * carries the last reading forward; a reading with other feature names starts the window anew. A
 * series quiet for {@code state.ttl.days} loses its state.
 */
public final class SeriesWindowFunction
    extends KeyedProcessFunction<String, ReadingEvent, WindowReady> {

  public static final OutputTag<DeadLetter> REJECTED = DeadLetters.tag("late-or-duplicate");

  private final int capacity;
  private final WindowPolicy policy;
  private final Duration ttl;
  private final String modelName;

  private transient ValueState<SeriesWindowState> window;
  private transient Counter late;
  private transient Counter duplicates;
  private transient Counter gapsReset;
  private transient Counter gapDaysCarried;

  public SeriesWindowFunction(JobConfig config) {
    this.capacity = config.windowLength();
    this.policy = config.windowPolicy();
    this.ttl = config.stateTtl();
    this.modelName = config.modelName();
  }

  /** The TTL of a series' window (processing time, renewed on every write). */
  private static StateTtlConfig ttl(Duration ttl) {
    return StateTtlConfig.newBuilder(ttl)
        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
        .build();
  }

  @Override
  public void open(OpenContext context) {
    ValueStateDescriptor<SeriesWindowState> descriptor =
        new ValueStateDescriptor<>("series-window", SeriesWindowStateSerializer.INSTANCE);
    descriptor.enableTimeToLive(ttl(ttl));
    window = getRuntimeContext().getState(descriptor);
    var metrics = getRuntimeContext().getMetricGroup();
    late = metrics.counter("lateReadings");
    duplicates = metrics.counter("duplicateReadings");
    gapsReset = metrics.counter("gapsReset");
    gapDaysCarried = metrics.counter("gapDaysCarried");
  }

  @Override
  public void processElement(ReadingEvent event, Context ctx, Collector<WindowReady> out)
      throws Exception {
    Reading reading = event.reading;
    int day = (int) reading.getDay().toEpochDay();
    SeriesWindowState state = window.value();
    if (state != null && state.size > 0) {
      // late and duplicate first: an old reading never restarts the window, whatever its features
      int last = state.lastDay();
      switch (WindowPolicy.admit(last, day)) {
        case DUPLICATE -> {
          duplicates.inc();
          ctx.output(
              REJECTED,
              DeadLetters.of(
                  event,
                  "duplicate",
                  "a reading of " + reading.getDay() + " is already in the window"));
          return;
        }
        case LATE -> {
          late.inc();
          ctx.output(
              REJECTED,
              DeadLetters.of(
                  event,
                  "late",
                  "day "
                      + reading.getDay()
                      + " is older than the window's newest, "
                      + LocalDate.ofEpochDay(last)));
          return;
        }
        case TAKE -> {}
      }
      boolean sameFeatures = sameFeatures(state.featureNames, reading.getFeatures());
      switch (policy.join(last, day, sameFeatures)) {
        case CONTINUE -> {}
        case RESET_AFTER_GAP -> {
          gapsReset.inc();
          state = null;
        }
        case RESET_NEW_FEATURES -> state = null;
        case CARRY_FORWARD -> {
          double[] carried = state.lastRow();
          for (int d = WindowPolicy.firstCarriedDay(last, day, capacity); d < day; d++) {
            state.append(d, carried);
            gapDaysCarried.inc();
          }
        }
      }
    } else {
      state = null;
    }
    if (state == null) {
      state =
          new SeriesWindowState(
              reading.getFeatures().keySet().stream().sorted().toArray(String[]::new), capacity);
    }
    state.append(day, row(reading.getFeatures(), state.featureNames));
    window.update(state);
    out.collect(
        state.toWindow(
            reading.getSeriesId(), modelName.isEmpty() ? reading.getDomain() : modelName));
  }

  private static boolean sameFeatures(String[] names, Map<String, Double> features) {
    if (names.length != features.size()) {
      return false;
    }
    for (String name : names) {
      if (!features.containsKey(name)) {
        return false;
      }
    }
    return true;
  }

  private static double[] row(Map<String, Double> features, String[] names) {
    double[] row = new double[names.length];
    for (int i = 0; i < names.length; i++) {
      row[i] = features.get(names[i]);
    }
    return row;
  }
}
