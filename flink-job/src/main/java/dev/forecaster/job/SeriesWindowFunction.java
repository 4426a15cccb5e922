package dev.forecaster.job;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Keeps, per series, a sliding window of its last {@code window.length} readings and emits it
 * after every new reading. A reading of the window's newest day is a duplicate and a reading of an
 * older day is late: both go to the dead letters and yield no forecast. A
 * gap longer than {@code gap.max-days} resets the window or carries the last reading forward,
 * by policy. A series quiet for {@code state.ttl.days} loses its state.
 */
public final class SeriesWindowFunction extends KeyedProcessFunction<String, ReadingEvent, WindowReady> {

  public static final OutputTag<DeadLetter> REJECTED = DeadLetters.tag("late-or-duplicate");

  private final int capacity;
  private final int gapMaxDays;
  private final JobConfig.GapPolicy gapPolicy;
  private final java.time.Duration ttl;
  private final String modelName;

  private transient ValueState<SeriesWindowState> window;
  private transient Counter late;
  private transient Counter duplicates;
  private transient Counter gapsReset;
  private transient Counter gapDaysCarried;

  public SeriesWindowFunction(JobConfig config) {
    this.capacity = config.windowLength();
    this.gapMaxDays = config.gapMaxDays();
    this.gapPolicy = config.gapPolicy();
    this.ttl = config.stateTtl();
    this.modelName = config.modelName();
  }

  @Override
  public void open(OpenContext context) {
    ValueStateDescriptor<SeriesWindowState> descriptor =
        new ValueStateDescriptor<>("series-window", TypeInformation.of(SeriesWindowState.class));
    descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ttl)
        .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
        .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
        .build());
    window = getRuntimeContext().getState(descriptor);
    var metrics = getRuntimeContext().getMetricGroup();
    late = metrics.counter("lateReadings");
    duplicates = metrics.counter("duplicateReadings");
    gapsReset = metrics.counter("gapsReset");
    gapDaysCarried = metrics.counter("gapDaysCarried");
  }

  @Override
  public void processElement(ReadingEvent event, Context ctx, Collector<WindowReady> out) throws Exception {
    Reading reading = event.reading;
    int day = (int) reading.getDay().toEpochDay();
    SeriesWindowState state = window.value();
    // the usual case, the same features as the window: reuse its sorted names instead of sorting again
    String[] names = state != null && sameFeatures(state.featureNames, reading.getFeatures())
        ? state.featureNames
        : reading.getFeatures().keySet().stream().sorted().toArray(String[]::new);
    double[] row = row(reading.getFeatures(), names);
    if (state != null && state.size > 0) {
      // late and duplicate first: an old reading never restarts the window, whatever its features
      int last = state.lastDay();
      if (day == last) {
        duplicates.inc();
        ctx.output(REJECTED, DeadLetters.of(event, "duplicate", "a reading of " + reading.getDay() + " is already in the window"));
        return;
      }
      if (day < last) {
        late.inc();
        ctx.output(REJECTED, DeadLetters.of(event, "late",
            "day " + reading.getDay() + " is older than the window's newest, " + java.time.LocalDate.ofEpochDay(last)));
        return;
      }
    }
    if (state != null && state.size > 0 && names == state.featureNames) {
      int last = state.lastDay();
      if (day - last > gapMaxDays) {
        if (gapPolicy == JobConfig.GapPolicy.RESET) {
          gapsReset.inc();
          state = null;
        } else {
          double[] carried = state.lastRow();
          // only the newest filled days that fit beside the new reading can stay in the window
          for (int d = Math.max(last + 1, day - capacity + 1); d < day; d++) {
            state.append(d, carried);
            gapDaysCarried.inc();
          }
        }
      }
    } else {
      state = null; // first reading, or the series' features changed: start anew
    }
    if (state == null) {
      state = new SeriesWindowState(names, capacity);
    }
    state.append(day, row);
    window.update(state);
    out.collect(state.toWindow(reading.getSeriesId(), modelName.isEmpty() ? reading.getDomain() : modelName));
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
