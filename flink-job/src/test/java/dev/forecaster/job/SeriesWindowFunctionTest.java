package dev.forecaster.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.DeadLetter;
import dev.forecaster.avro.Reading;
import dev.forecaster.schemas.Codecs;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SeriesWindowFunctionTest {

  private static final String KSEA = "KSEA";
  private static final String KPDX = "KPDX";
  private static final String TOPIC = "readings";
  private static final int PARTITION = 3;
  private static final LocalDate MON = LocalDate.of(2015, 3, 16);
  private static final List<String> TEMPERATURES = List.of("temp_max", "temp_min");
  private static final long DAY_MS = Duration.ofDays(1).toMillis();

  private KeyedOneInputStreamOperatorTestHarness<String, ReadingEvent, WindowReady> harness;
  private long nextOffset = 100;

  /** A window as the scorer sees it, comparable. */
  record Window(
      String seriesId,
      String modelName,
      List<String> featureNames,
      List<LocalDate> days,
      List<List<Double>> rows) {}

  @AfterEach
  void closeHarness() throws Exception {
    if (harness != null) {
      harness.close();
    }
  }

  @Test
  void aWindowSlidesAndKeepsTheLastNReadingsOldestFirst() throws Exception {
    open(Map.of("window.length", "3"));
    List<Reading> readings =
        IntStream.range(0, 5).mapToObj(d -> weather(KSEA, MON.plusDays(d), 10.0 + d)).toList();

    readings.forEach(this::send);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, readings.subList(0, 1)),
            window("weather", TEMPERATURES, readings.subList(0, 2)),
            window("weather", TEMPERATURES, readings.subList(0, 3)),
            window("weather", TEMPERATURES, readings.subList(1, 4)),
            window("weather", TEMPERATURES, readings.subList(2, 5)));
    assertThat(rejected()).isEmpty();
    assertThat(harness.numKeyedStateEntries()).isEqualTo(1);
    assertThat(harness.numEventTimeTimers() + harness.numProcessingTimeTimers()).isZero();
  }

  @Test
  void aDuplicateDayIsADeadLetterAndYieldsNoWindow() throws Exception {
    open(Map.of());
    Reading mon = weather(KSEA, MON, 10.0);
    Reading tue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading tueAgain = weather(KSEA, MON.plusDays(1), 99.0);
    Reading wed = weather(KSEA, MON.plusDays(2), 12.0);
    send(mon);
    send(tue);
    long duplicateOffset = send(tueAgain);
    send(wed);

    // the first reading of the day stays; the second changes nothing
    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, List.of(mon)),
            window("weather", TEMPERATURES, List.of(mon, tue)),
            window("weather", TEMPERATURES, List.of(mon, tue, wed)));
    List<DeadLetter> rejected = rejected();
    assertThat(rejected).hasSize(1);
    assertDeadLetter(
        rejected.get(0),
        "duplicate",
        "a reading of 2015-03-17 is already in the window",
        duplicateOffset,
        tueAgain);
  }

  @Test
  void aReadingOlderThanTheWindowsHeadIsLate() throws Exception {
    open(Map.of());
    Reading mon = weather(KSEA, MON, 10.0);
    Reading wed = weather(KSEA, MON.plusDays(2), 12.0);
    Reading tue =
        weather(KSEA, MON.plusDays(1), 11.0); // never in the window, but behind its newest
    Reading thu = weather(KSEA, MON.plusDays(3), 13.0);
    send(mon);
    send(wed);
    long lateOffset = send(tue);
    send(thu);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, List.of(mon)),
            window("weather", TEMPERATURES, List.of(mon, wed)),
            window("weather", TEMPERATURES, List.of(mon, wed, thu)));
    List<DeadLetter> rejected = rejected();
    assertThat(rejected).hasSize(1);
    assertDeadLetter(
        rejected.get(0),
        "late",
        "day 2015-03-17 is older than the window's newest, 2015-03-18",
        lateOffset,
        tue);
  }

  @Test
  void aGapLongerThanTheLimitResetsTheWindow() throws Exception {
    open(Map.of("window.length", "3", "gap.policy", "reset", "gap.max-days", "1"));
    Reading mon = weather(KSEA, MON, 10.0);
    Reading tue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading thu = weather(KSEA, MON.plusDays(3), 13.0); // Wednesday is missing: a gap of 2 days
    Reading fri = weather(KSEA, MON.plusDays(4), 14.0);
    List.of(mon, tue, thu, fri).forEach(this::send);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, List.of(mon)),
            window("weather", TEMPERATURES, List.of(mon, tue)),
            window("weather", TEMPERATURES, List.of(thu)),
            window("weather", TEMPERATURES, List.of(thu, fri)));
    assertThat(rejected()).isEmpty();
  }

  @Test
  void aGapIsCarriedForwardWithTheLastValues() throws Exception {
    open(Map.of("window.length", "4", "gap.policy", "carry-forward", "gap.max-days", "1"));
    Reading mon = weather(KSEA, MON, 10.0);
    Reading tue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading fri = weather(KSEA, MON.plusDays(4), 14.0);
    Reading nextWed =
        weather(KSEA, MON.plusDays(9), 19.0); // longer than the window: only its tail is kept
    List.of(mon, tue, fri, nextWed).forEach(this::send);

    List<Window> windows = windows();
    assertThat(windows).hasSize(4);
    // Wednesday and Thursday repeat Tuesday
    assertThat(windows.get(2))
        .isEqualTo(
            window(
                "weather",
                TEMPERATURES,
                List.of(tue, carried(tue, MON.plusDays(2)), carried(tue, MON.plusDays(3)), fri)));
    // Saturday .. Tuesday repeat Friday; the window holds the newest four days
    assertThat(windows.get(3))
        .isEqualTo(
            window(
                "weather",
                TEMPERATURES,
                List.of(
                    carried(fri, MON.plusDays(6)),
                    carried(fri, MON.plusDays(7)),
                    carried(fri, MON.plusDays(8)),
                    nextWed)));
    assertThat(rejected()).isEmpty();
  }

  @Test
  void aWeekendIsNoGapWithTheDefaultLimit() throws Exception {
    open(Map.of()); // gap.max-days 4, gap.policy reset
    LocalDate friday = LocalDate.of(2024, 3, 8);
    Reading fri = stock("SPX", friday, 5123.5);
    Reading mon = stock("SPX", friday.plusDays(3), 5117.5);
    send(fri);
    send(mon);

    assertThat(windows())
        .containsExactly(
            window("stock", List.of("close"), List.of(fri)),
            window("stock", List.of("close"), List.of(fri, mon)));
  }

  @Test
  void seriesAreKeptApart() throws Exception {
    open(Map.of("window.length", "2"));
    Reading seattleMon = weather(KSEA, MON, 10.0);
    Reading portlandMon = weather(KPDX, MON, 15.0);
    Reading seattleTue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading portlandSun = weather(KPDX, MON.minusDays(1), 14.0); // late for Portland only
    Reading portlandTue = weather(KPDX, MON.plusDays(1), 16.0);
    Reading seattleWed = weather(KSEA, MON.plusDays(2), 12.0);
    send(seattleMon);
    send(portlandMon); // the same day in another series is no duplicate
    send(seattleTue);
    long lateOffset = send(portlandSun);
    send(portlandTue);
    send(seattleWed);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, List.of(seattleMon)),
            window("weather", TEMPERATURES, List.of(portlandMon)),
            window("weather", TEMPERATURES, List.of(seattleMon, seattleTue)),
            window("weather", TEMPERATURES, List.of(portlandMon, portlandTue)),
            window("weather", TEMPERATURES, List.of(seattleTue, seattleWed)));
    List<DeadLetter> rejected = rejected();
    assertThat(rejected).hasSize(1);
    assertDeadLetter(
        rejected.get(0),
        "late",
        "day 2015-03-15 is older than the window's newest, 2015-03-16",
        lateOffset,
        portlandSun);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
  }

  @Test
  void modelNameIsTheDomainUnlessConfigured() throws Exception {
    open(Map.of());
    Reading seattle = weather(KSEA, MON, 10.0);
    Reading spx = stock("SPX", MON, 2081.2);
    send(seattle);
    send(spx);
    assertThat(windows()).extracting(Window::modelName).containsExactly("weather", "stock");
    harness.close();

    open(Map.of("model.name", "station-tmax"));
    send(seattle);
    send(spx);
    assertThat(windows())
        .containsExactly(
            window("station-tmax", TEMPERATURES, List.of(seattle)),
            window("station-tmax", List.of("close"), List.of(spx)));
  }

  @Test
  void aReadingWithOtherFeaturesStartsTheWindowAnew() throws Exception {
    open(Map.of());
    Reading mon = weather(KSEA, MON, 10.0);
    Reading tue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading wed =
        reading(
            KSEA,
            MON.plusDays(2),
            Map.of("temp_max", 12.0, "temp_min", 4.0, "wind", 3.5),
            "weather");
    List.of(mon, tue, wed).forEach(this::send);

    assertThat(windows())
        .last()
        .isEqualTo(window("weather", List.of("temp_max", "temp_min", "wind"), List.of(wed)));
  }

  @Test
  void aLateReadingWithOtherFeaturesIsLateAndLeavesTheWindowAlone() throws Exception {
    open(Map.of());
    Reading mon = weather(KSEA, MON, 10.0);
    Reading wed = weather(KSEA, MON.plusDays(2), 12.0);
    Reading oldOther = reading(KSEA, MON.plusDays(1), Map.of("temp_max", 11.0), "weather");
    Reading wedOther = reading(KSEA, MON.plusDays(2), Map.of("temp_max", 12.5), "weather");
    Reading thu = weather(KSEA, MON.plusDays(3), 13.0);
    send(mon);
    send(wed);
    long lateOffset = send(oldOther);
    long duplicateOffset = send(wedOther);
    send(thu);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, List.of(mon)),
            window("weather", TEMPERATURES, List.of(mon, wed)),
            window("weather", TEMPERATURES, List.of(mon, wed, thu)));
    List<DeadLetter> rejected = rejected();
    assertThat(rejected).hasSize(2);
    assertDeadLetter(
        rejected.get(0),
        "late",
        "day 2015-03-17 is older than the window's newest, 2015-03-18",
        lateOffset,
        oldOther);
    assertDeadLetter(
        rejected.get(1),
        "duplicate",
        "a reading of 2015-03-18 is already in the window",
        duplicateOffset,
        wedOther);
  }

  @Test
  void aQuietSeriesLosesItsStateAfterTheTtl() throws Exception {
    open(Map.of("state.ttl.days", "1"));
    Reading seattleMon = weather(KSEA, MON, 10.0);
    Reading seattleTue = weather(KSEA, MON.plusDays(1), 11.0);
    Reading seattleWed = weather(KSEA, MON.plusDays(2), 12.0);
    Reading portlandMon = weather(KPDX, MON, 15.0);
    Reading portlandTue = weather(KPDX, MON.plusDays(1), 16.0);
    harness.setStateTtlProcessingTime(0);
    send(seattleMon);
    send(seattleTue);
    harness.setStateTtlProcessingTime(DAY_MS - 1);
    send(portlandMon);
    assertThat(harness.numKeyedStateEntries()).isEqualTo(2);

    // Seattle was last written a day ago, Portland a moment ago: Portland's window goes on
    harness.setStateTtlProcessingTime(DAY_MS + 1);
    send(portlandTue);
    assertThat(windows())
        .last()
        .isEqualTo(window("weather", TEMPERATURES, List.of(portlandMon, portlandTue)));

    // Flink drops expired entries in the background as state is touched, about a key group per
    // access: Portland's readings sweep the 128 key groups long before two months are out
    for (int day = 2; day < 64 && harness.numKeyedStateEntries() > 1; day++) {
      send(weather(KPDX, MON.plusDays(day), 15.0 + day));
    }
    assertThat(harness.numKeyedStateEntries()).as("Seattle's window is gone").isEqualTo(1);

    send(seattleWed);
    assertThat(windows())
        .filteredOn(w -> w.seriesId().equals(KSEA))
        .containsExactly(
            window("weather", TEMPERATURES, List.of(seattleMon)),
            window("weather", TEMPERATURES, List.of(seattleMon, seattleTue)),
            window("weather", TEMPERATURES, List.of(seattleWed)));
    assertThat(rejected()).isEmpty();
    assertThat(harness.numKeyedStateEntries()).isEqualTo(2);
  }

  /**
   * Checkpoints the build before the compact encoding (6ee9a77, Flink's POJO serializer) wrote, one
   * per state backend, and one in the compact encoding's first format (20c9f83: it pins that
   * format), windows of three: Seattle's readings of MON .. MON+3 (10.5 .. 13.5, the ring wrapped)
   * and one S&P 500 close of MON. RocksDB rewrites every value with the new serializer as it
   * restores.
   */
  @ParameterizedTest(name = "{0}")
  @ValueSource(
      strings = {
        "window-6ee9a77.snapshot",
        "window-6ee9a77-rocksdb.snapshot",
        "window-format1.snapshot"
      })
  void aCheckpointOfAnEarlierBuildRestoresItsWindows(String file) throws Exception {
    harness = newHarness(Map.of("window.length", "3"));
    StoredCheckpoints.restoreAndOpen(harness, file);
    List<Reading> seattle =
        IntStream.range(2, 5).mapToObj(d -> weather(KSEA, MON.plusDays(d), 10.5 + d)).toList();
    Reading spxMon = stock("SPX", MON, 2081.2);
    Reading spxTue = stock("SPX", MON.plusDays(1), 2090.5);

    send(seattle.get(2));
    send(weather(KSEA, MON.plusDays(4), 99.0));
    send(spxTue);

    assertThat(windows())
        .containsExactly(
            window("weather", TEMPERATURES, seattle),
            window("stock", List.of("close"), List.of(spxMon, spxTue)));
    assertThat(rejected()).extracting(DeadLetter::getCategory).containsExactly("duplicate");
  }

  @Test
  void aCheckpointRestoresEveryWindowBitForBitAndWritesDecimalsCompactly() throws Exception {
    open(Map.of());
    // a station's one-decimal readings (as a CSV's "12.8" parses), and a series whose numbers have
    // every digit
    List<Reading> station = new ArrayList<>();
    List<Reading> exact = new ArrayList<>();
    for (int d = 0; d < 20; d++) {
      station.add(
          reading(
              KSEA,
              MON.plusDays(d),
              Map.of(
                  "temp_max",
                  (128 + d % 7 * 3) / 10.0,
                  "temp_min",
                  (-31 + d % 5 * 10) / 10.0,
                  "precipitation",
                  d % 3 == 0 ? 0.0 : 10.9,
                  "wind",
                  4.7),
              "weather"));
      exact.add(
          reading(
              KPDX,
              MON.plusDays(d),
              Map.of("temp_max", Math.PI * d, "temp_min", -0.0, "wind", 1e300 / (d + 1)),
              "weather"));
    }
    station.forEach(this::send);
    exact.forEach(this::send);
    List<Window> before = List.of(windows().get(19), windows().get(39));
    var snapshot = harness.snapshot(1L, 1L);
    harness.close();

    harness = newHarness(Map.of());
    harness.initializeState(snapshot);
    harness.open();
    Reading stationNext =
        reading(
            KSEA,
            MON.plusDays(20),
            Map.of("temp_max", 14.1, "temp_min", 2.2, "precipitation", 0.3, "wind", 5.0),
            "weather");
    Reading exactNext =
        reading(
            KPDX,
            MON.plusDays(20),
            Map.of("temp_max", Math.E, "temp_min", Double.MIN_VALUE, "wind", -1e-300),
            "weather");
    send(stationNext);
    send(exactNext);

    List<Window> after = windows();
    List<Reading> stationWindow = new ArrayList<>(station.subList(5, 20));
    stationWindow.add(stationNext);
    List<Reading> exactWindow = new ArrayList<>(exact.subList(5, 20));
    exactWindow.add(exactNext);
    List<String> weather = List.of("precipitation", "temp_max", "temp_min", "wind");
    assertThat(before)
        .containsExactly(
            window("weather", weather, station.subList(4, 20)),
            window("weather", List.of("temp_max", "temp_min", "wind"), exact.subList(4, 20)));
    assertThat(after)
        .containsExactly(
            window("weather", weather, stationWindow),
            window("weather", List.of("temp_max", "temp_min", "wind"), exactWindow));
    assertThat(Double.doubleToRawLongBits(after.get(1).rows().get(0).get(1)))
        .as("-0.0 stays -0.0")
        .isEqualTo(Double.doubleToRawLongBits(-0.0));

    SeriesWindowState state = new SeriesWindowState(weather.toArray(String[]::new), 16);
    station.forEach(
        r -> state.append((int) r.getDay().toEpochDay(), row(r.getFeatures(), weather)));
    DataOutputSerializer bytes = new DataOutputSerializer(1024);
    SeriesWindowStateSerializer.INSTANCE.serialize(state, bytes);
    // 129 bytes: 16 readings of four one-decimal features (their doubles alone were 512 bytes)
    assertThat(bytes.length()).isLessThan(160);
  }

  private static double[] row(Map<String, Double> features, List<String> names) {
    return names.stream().mapToDouble(features::get).toArray();
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, ReadingEvent, WindowReady>
      newHarness(Map<String, String> settings) throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new SeriesWindowFunction(JobConfig.of(settings))),
        event -> event.reading.getSeriesId(),
        Types.STRING);
  }

  private void open(Map<String, String> settings) throws Exception {
    harness = newHarness(settings);
    harness.open();
  }

  /** Sends a reading as the next record of the partition; returns its offset. */
  private long send(Reading reading) {
    long offset = nextOffset++;
    try {
      harness.processElement(
          new ReadingEvent(reading, TOPIC, PARTITION, offset),
          reading.getDay().toEpochDay() * DAY_MS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    return offset;
  }

  private List<Window> windows() {
    return harness.extractOutputValues().stream().map(SeriesWindowFunctionTest::seen).toList();
  }

  private List<DeadLetter> rejected() {
    var side = harness.getSideOutput(SeriesWindowFunction.REJECTED);
    return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
  }

  private static Window seen(WindowReady w) {
    int width = w.featureNames.length;
    List<LocalDate> days = Arrays.stream(w.epochDays).mapToObj(LocalDate::ofEpochDay).toList();
    List<List<Double>> rows = new ArrayList<>();
    for (int r = 0; r < w.rows(); r++) {
      rows.add(Arrays.stream(w.values, r * width, (r + 1) * width).boxed().toList());
    }
    assertThat(w.values).hasSize(w.rows() * width);
    return new Window(w.seriesId, w.modelName, List.of(w.featureNames), days, rows);
  }

  /** The window that holds exactly these readings, oldest first, their features in this order. */
  private static Window window(String model, List<String> features, List<Reading> readings) {
    return new Window(
        readings.get(0).getSeriesId(),
        model,
        features,
        readings.stream().map(Reading::getDay).toList(),
        readings.stream()
            .map(r -> features.stream().map(f -> r.getFeatures().get(f)).toList())
            .toList());
  }

  private static void assertDeadLetter(
      DeadLetter letter, String category, String reason, long offset, Reading reading)
      throws Exception {
    assertThat(letter.getCategory()).isEqualTo(category);
    assertThat(letter.getReason()).isEqualTo(reason);
    assertThat(letter.getTopic()).isEqualTo(TOPIC);
    assertThat(letter.getPartition()).isEqualTo(PARTITION);
    assertThat(letter.getOffset()).isEqualTo(offset);
    assertThat(letter.getFailedAt()).isNotNull();
    assertThat(bytes(letter.getKey()))
        .isEqualTo(reading.getSeriesId().getBytes(StandardCharsets.UTF_8));
    assertThat(Codecs.READING.decode(bytes(letter.getPayload()))).isEqualTo(reading);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] bytes = new byte[copy.remaining()];
    copy.get(bytes);
    return bytes;
  }

  private static Reading weather(String station, LocalDate day, double tempMax) {
    return reading(station, day, Map.of("temp_max", tempMax, "temp_min", tempMax - 7.5), "weather");
  }

  private static Reading stock(String ticker, LocalDate day, double close) {
    return reading(ticker, day, Map.of("close", close), "stock");
  }

  private static Reading reading(
      String series, LocalDate day, Map<String, Double> features, String domain) {
    return Reading.newBuilder()
        .setSeriesId(series)
        .setDay(day)
        .setFeatures(features)
        .setDomain(domain)
        .build();
  }

  /** The reading of a day missing from the series, as the window fills it in. */
  private static Reading carried(Reading last, LocalDate day) {
    return Reading.newBuilder(last).setDay(day).build();
  }
}
