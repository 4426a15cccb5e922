package dev.forecaster.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.Forecast;
import dev.forecaster.avro.IntervalHit;
import dev.forecaster.schemas.ForecastIds;
import dev.forecaster.trainer.RoundRecord;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Comparator;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.data.time.Day;
import org.jfree.data.time.TimeSeries;
import org.jfree.data.time.TimeSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/** The report (one HTML page, charts inline) and its summary JSON, of the demo or of the topics. */
final class Report {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Report() {}

  /**
   * Live MAE of the model and of persistence for a series, from its first live day on; NaN without
   * data.
   */
  static double[] liveMae(List<Evaluation> evaluations, String series, LocalDate from) {
    double model = 0;
    double persistence = 0;
    int n = 0;
    int p = 0;
    for (Evaluation e : evaluations) {
      if (e.getSeriesId().equals(series) && !e.getTargetDay().isBefore(from)) {
        model += Math.abs(e.getError());
        n++;
        if (e.getPersistenceError() != null) {
          persistence += Math.abs(e.getPersistenceError());
          p++;
        }
      }
    }
    return new double[] {n == 0 ? Double.NaN : model / n, p == 0 ? Double.NaN : persistence / p, n};
  }

  /**
   * The evaluations of each series' nearest horizon (h = 1 for the models the trainer publishes):
   * what the headline accuracy, coverage and charts of a series are about; the other horizons are
   * in the table by horizon.
   */
  static List<Evaluation> nearestHorizon(List<Evaluation> evaluations) {
    Map<String, Integer> nearest = new TreeMap<>();
    for (Evaluation e : evaluations) {
      nearest.merge(e.getSeriesId(), e.getHorizon(), Math::min);
    }
    return evaluations.stream()
        .filter(e -> e.getHorizon() == nearest.get(e.getSeriesId()))
        .toList();
  }

  /**
   * Share of a series' live evaluations (from its first live day on) whose actual fell inside each
   * interval level, by level; empty when its forecasts had no intervals.
   */
  static Map<Double, Double> liveCoverage(
      List<Evaluation> evaluations, String series, LocalDate from) {
    Map<Double, long[]> counts = new TreeMap<>();
    for (Evaluation e : evaluations) {
      if (e.getSeriesId().equals(series) && !e.getTargetDay().isBefore(from)) {
        for (IntervalHit hit : e.getIntervals()) {
          long[] c = counts.computeIfAbsent(hit.getLevel(), l -> new long[2]);
          c[0] += hit.getInside() ? 1 : 0;
          c[1]++;
        }
      }
    }
    Map<Double, Double> coverage = new TreeMap<>();
    counts.forEach((level, c) -> coverage.put(level, (double) c[0] / c[1]));
    return coverage;
  }

  /**
   * The live forecasts of one model version and horizon for a series: which base days, how many,
   * how accurate, how often inside each interval.
   */
  record VersionSpan(
      long version,
      int horizon,
      LocalDate first,
      LocalDate last,
      int forecasts,
      int evaluations,
      double mae,
      double persistenceMae,
      Map<Double, Double> coverage) {}

  /**
   * Per model version and horizon, the series' live forecasts: those for a day of the live period
   * (from its first live day on) and those scored in it (a forecast for a day the series then
   * skipped, a holiday, is scored on its next reading). An evaluation whose forecast was not read
   * (gone with retention) counts by its own version, horizon and id. So a span's scored forecasts
   * are among its forecasts, and the spans of a horizon together hold that horizon's live
   * evaluations.
   */
  static List<VersionSpan> liveByVersion(ReportData o, String series, LocalDate liveFrom) {
    Comparator<List<Long>> byKey =
        Comparator.<List<Long>, Long>comparing(k -> k.get(0)).thenComparing(k -> k.get(1));
    Map<List<Long>, List<Evaluation>> scored = new TreeMap<>(byKey);
    o.evaluations().stream()
        .filter(e -> e.getSeriesId().equals(series) && !e.getTargetDay().isBefore(liveFrom))
        .forEach(
            e ->
                scored
                    .computeIfAbsent(
                        List.of(e.getModelVersion(), (long) e.getHorizon()), k -> new ArrayList<>())
                    .add(e));
    Set<String> scoredIds =
        scored.values().stream()
            .flatMap(List::stream)
            .map(Evaluation::getForecastId)
            .collect(Collectors.toSet());
    // per span, the forecast ids and their base days
    Map<List<Long>, Map<String, LocalDate>> made = new TreeMap<>(byKey);
    o.forecasts().stream()
        .filter(
            f ->
                f.getSeriesId().equals(series)
                    && (!f.getTargetDay().isBefore(liveFrom)
                        || scoredIds.contains(f.getForecastId())))
        .forEach(
            f ->
                made.computeIfAbsent(
                        List.of(f.getModelVersion(), (long) f.getHorizon()), k -> new HashMap<>())
                    .put(f.getForecastId(), f.getBaseDay()));
    scored.forEach(
        (key, es) -> {
          Map<String, LocalDate> ids = made.computeIfAbsent(key, k -> new HashMap<>());
          es.forEach(e -> ids.computeIfAbsent(e.getForecastId(), id -> baseDayOf(e)));
        });
    List<VersionSpan> spans = new ArrayList<>();
    made.forEach(
        (key, ids) -> {
          List<Evaluation> es = scored.getOrDefault(key, List.of());
          double[] mae = liveMae(es, series, liveFrom);
          spans.add(
              new VersionSpan(
                  key.get(0),
                  key.get(1).intValue(),
                  Collections.min(ids.values()),
                  Collections.max(ids.values()),
                  ids.size(),
                  es.size(),
                  mae[0],
                  mae[1],
                  liveCoverage(es, series, liveFrom)));
        });
    return spans;
  }

  /**
   * The base day of an evaluation whose forecast was not read, from its forecast id; its target day
   * where the id is not one the job writes (another producer's), so one record cannot stop a
   * report.
   */
  private static LocalDate baseDayOf(Evaluation e) {
    try {
      return ForecastIds.baseDayOf(e.getForecastId());
    } catch (IllegalArgumentException notOurs) {
      return e.getTargetDay();
    }
  }

  static ObjectNode summary(ReportData o) {
    ObjectNode root = JSON.createObjectNode();
    root.put("readings", o.readings());
    root.put("forecasts", o.forecasts().size());
    root.put("evaluations", o.evaluations().size());
    root.put("deadLetters", o.deadLetters().size());
    ObjectNode series = root.putObject("series");
    List<Evaluation> nearest = nearestHorizon(o.evaluations());
    for (var s : o.liveFrom().entrySet()) {
      ObjectNode node = series.putObject(s.getKey());
      node.put("liveFrom", s.getValue().toString());
      putFigures(
          node, nearest, s.getKey(), s.getValue(), "liveEvaluations", "liveMae", "liveCoverage");
      ArrayNode byHorizon = node.putArray("liveByHorizon");
      Map<Integer, List<Evaluation>> perHorizon =
          o.evaluations().stream()
              .filter(e -> e.getSeriesId().equals(s.getKey()))
              .collect(
                  Collectors.groupingBy(Evaluation::getHorizon, TreeMap::new, Collectors.toList()));
      perHorizon.forEach(
          (h, es) ->
              putFigures(
                  byHorizon.addObject().put("horizon", h),
                  es,
                  s.getKey(),
                  s.getValue(),
                  "evaluations",
                  "mae",
                  "coverage"));
      ArrayNode versions = node.putArray("modelVersions");
      new TreeSet<>(
              o.forecasts().stream()
                  .filter(f -> f.getSeriesId().equals(s.getKey()))
                  .map(Forecast::getModelVersion)
                  .toList())
          .forEach(versions::add);
      ArrayNode live = node.putArray("liveByVersion");
      for (VersionSpan v : liveByVersion(o, s.getKey(), s.getValue())) {
        ObjectNode n = live.addObject();
        n.put("version", v.version());
        n.put("horizon", v.horizon());
        n.put("firstBaseDay", v.first().toString());
        n.put("lastBaseDay", v.last().toString());
        n.put("forecasts", v.forecasts());
        n.put("evaluations", v.evaluations());
        n.put("mae", v.mae());
        n.put("persistenceMae", v.persistenceMae());
        ObjectNode vc = n.putObject("coverage");
        v.coverage().forEach((level, share) -> vc.put(level.toString(), share));
      }
    }
    ArrayNode rounds = root.putArray("trainerRounds");
    o.rounds().forEach(r -> rounds.add(JSON.valueToTree(r)));
    return root;
  }

  /**
   * A series' live figures over {@code evaluations} into {@code node}: how many, the model's MAE,
   * persistence's ({@code persistenceMae}) and the coverage of each interval level.
   */
  private static void putFigures(
      ObjectNode node,
      List<Evaluation> evaluations,
      String series,
      LocalDate from,
      String countKey,
      String maeKey,
      String coverageKey) {
    double[] mae = liveMae(evaluations, series, from);
    node.put(countKey, (long) mae[2]);
    node.put(maeKey, mae[0]);
    node.put("persistenceMae", mae[1]);
    ObjectNode coverage = node.putObject(coverageKey);
    liveCoverage(evaluations, series, from)
        .forEach((level, share) -> coverage.put(level.toString(), share));
  }

  static void writeSummary(Path file, ReportData o) throws IOException {
    createParent(file);
    JSON.writeValue(file.toFile(), summary(o));
  }

  static void writeHtml(Path file, ReportData o) throws IOException {
    System.setProperty("java.awt.headless", "true");
    StringBuilder h = new StringBuilder();
    head(h);
    h.append("<h1>Forecaster report</h1>");
    h.append(
        String.format(
            "<p>%d readings in, %d forecasts out, %d forecasts scored against their actual, %d dead"
                + " letters. Every forecast was made by the streaming job from a model the trainer"
                + " published; the live period of a series starts at its first scored day.</p>",
            o.readings(), o.forecasts().size(), o.evaluations().size(), o.deadLetters().size()));
    ObjectNode summary = summary(o);
    liveAccuracy(h, o, summary);
    versionTable(h, o);
    h.append("<h2>Models</h2><ul>");
    o.models().values().forEach(d -> h.append("<li>").append(esc(d)).append("</li>"));
    h.append("</ul>");
    rounds(h, o.rounds());
    charts(h, o);
    h.append("</body></html>");
    createParent(file);
    Files.writeString(file, h);
  }

  private static void head(StringBuilder h) {
    h.append(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>forecaster"
                + " report</title><style>")
        .append("body{font-family:sans-serif;margin:2em;color:#222;max-width:1150px}")
        .append(
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px"
                + " 10px;text-align:right}")
        .append(
            "th{background:#f0f0f0}td:first-child{text-align:left}.good{color:#1a7f37}.bad{color:#b42318}")
        .append("img{display:block;margin:0.5em 0 1.5em 0}</style></head><body>");
  }

  private static void liveAccuracy(StringBuilder h, ReportData o, ObjectNode summary) {
    h.append(
        "<h2>Live accuracy</h2><table><tr><th>series</th><th>live from</th><th>forecasts"
            + " scored</th><th>model MAE</th><th>persistence MAE</th><th>inside 80% / 95%"
            + " intervals</th><th>model versions</th></tr>");
    for (var s : o.liveFrom().entrySet()) {
      ObjectNode n = (ObjectNode) summary.get("series").get(s.getKey());
      double model = n.get("liveMae").asDouble();
      double pers = n.get("persistenceMae").asDouble();
      h.append(
          String.format(
              "<tr><td>%s</td><td>%s</td><td>%d</td><td"
                  + " class=\"%s\">%.3f</td><td>%.3f</td><td>%s / %s</td><td>%s</td></tr>",
              esc(s.getKey()),
              s.getValue(),
              n.get("liveEvaluations").asLong(),
              against(model, pers),
              model,
              pers,
              percent(n.get("liveCoverage").get("0.8")),
              percent(n.get("liveCoverage").get("0.95")),
              n.get("modelVersions").toString()));
    }
    h.append("</table>");
  }

  /**
   * The style of a model's MAE against persistence's: better, worse, or neither where they are the
   * same as shown (a model that serves persistence is not better than it).
   */
  static String against(double model, double persistence) {
    if (fmt(model).equals(fmt(persistence))) {
      return "";
    }
    return model < persistence ? "good" : "bad";
  }

  private static String share(Double share) {
    return share == null ? "-" : String.format("%.0f%%", 100 * share);
  }

  private static String percent(JsonNode share) {
    return share == null ? "-" : String.format("%.0f%%", 100 * share.asDouble());
  }

  private static void versionTable(StringBuilder h, ReportData o) {
    h.append(
        "<h2>By model version and horizon</h2><p>Which version made each live forecast (one for a"
            + " day of the live period, or scored in it), and, per horizon (readings"
            + " ahead), how accurate it was and how often the actual fell inside its 80% and 95%"
            + " intervals on the days it forecast. Persistence forecasts the last reading for every"
            + " horizon.</p><table><tr><th>series</th><th>version</th><th>horizon</th><th>base"
            + " days</th><th>forecasts</th><th>scored</th><th>model MAE</th><th>persistence"
            + " MAE</th><th>inside 80% / 95%</th></tr>");
    for (var s : o.liveFrom().entrySet()) {
      for (VersionSpan v : liveByVersion(o, s.getKey(), s.getValue())) {
        h.append(
            String.format(
                "<tr><td>%s</td><td>v%d</td><td>%d</td><td>%s .. %s</td><td>%d</td><td>%d</td><td"
                    + " class=\"%s\">%s</td><td>%s</td><td>%s / %s</td></tr>",
                esc(s.getKey()),
                v.version(),
                v.horizon(),
                v.first(),
                v.last(),
                v.forecasts(),
                v.evaluations(),
                against(v.mae(), v.persistenceMae()),
                fmt(v.mae()),
                fmt(v.persistenceMae()),
                share(v.coverage().get(0.8)),
                share(v.coverage().get(0.95))));
      }
    }
    h.append("</table>");
  }

  private static void rounds(StringBuilder h, List<RoundRecord> rounds) {
    if (rounds.isEmpty()) {
      return;
    }
    h.append(
        "<h2>Retraining during the live period</h2><p>The trainer service's scheduled round, in"
            + " the demo <code>forecast trainer --once</code> per model, side by side: history from"
            + " the readings topic, training the model's own form (a preset's networks, at most "
            + DemoCommand.MAX_MEMBERS
            + " per horizon, 2 with --quick; a --csv model's form searched first; the first version"
            + " in service is the search's closed forms alone), backtest on the most recent 20% of"
            + " windows against persistence and the version in service; published only if better."
            + " The running job picks a published version up from the models topic without a"
            + " restart.</p><table><tr><th>model</th><th>trigger</th><th>readings</th><th>challenger"
            + " MAE</th><th>champion MAE</th><th>persistence MAE</th><th>decision</th></tr>");
    for (RoundRecord r : rounds) {
      h.append(
          String.format(
              "<tr><td>%s</td><td"
                  + " style=\"text-align:left\">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td"
                  + " style=\"text-align:left\">%s</td></tr>",
              esc(r.modelName()),
              esc(r.reason()),
              r.historyReadings() == null ? "-" : r.historyReadings(),
              fmt(r.challengerMae()),
              fmt(r.championMae()),
              fmt(r.persistenceMae()),
              esc(r.explanation() != null ? r.explanation() : r.decision() + ": " + r.error())));
    }
    h.append("</table>");
  }

  private static void charts(StringBuilder h, ReportData o) throws IOException {
    List<Evaluation> nearest = nearestHorizon(o.evaluations());
    for (var s : o.liveFrom().entrySet()) {
      h.append("<h2>").append(esc(s.getKey())).append("</h2>");
      List<Evaluation> live =
          nearest.stream()
              .filter(
                  e ->
                      e.getSeriesId().equals(s.getKey())
                          && !e.getTargetDay().isBefore(s.getValue()))
              .sorted(Comparator.comparing(Evaluation::getTargetDay))
              .toList();
      h.append(img(actualVsForecast(s.getKey(), live)));
      h.append(img(errors(s.getKey(), live)));
      h.append(img(versions(s.getKey(), o.forecasts(), s.getValue())));
    }
  }

  static JFreeChart actualVsForecast(String series, List<Evaluation> live) {
    TimeSeries actual = new TimeSeries("actual");
    TimeSeries forecast = new TimeSeries("forecast");
    TimeSeries persistence = new TimeSeries("persistence");
    for (Evaluation e : live) {
      actual.addOrUpdate(day(e.getTargetDay()), e.getActual());
      forecast.addOrUpdate(day(e.getTargetDay()), e.getPredicted());
      if (e.getPersistenceError() != null) {
        persistence.addOrUpdate(day(e.getTargetDay()), e.getActual() + e.getPersistenceError());
      }
    }
    JFreeChart chart =
        styled(
            ChartFactory.createTimeSeriesChart(
                series + ": actual and forecast, live period",
                "day",
                live.isEmpty() ? "" : live.get(0).getTarget(),
                collection(actual, forecast, persistence)),
            BLACK,
            RED,
            GREY);
    fan(chart, live);
    return chart;
  }

  /**
   * The forecasts' 95% and 80% intervals as shaded bands behind the lines (a fan chart), when the
   * forecasts had intervals.
   */
  private static void fan(JFreeChart chart, List<Evaluation> live) {
    YIntervalSeriesCollection bands = new YIntervalSeriesCollection();
    for (double level : List.of(0.95, 0.8)) {
      YIntervalSeries band = new YIntervalSeries(String.format("%.0f%% interval", level * 100));
      for (Evaluation e : live) {
        for (IntervalHit i : e.getIntervals()) {
          if (i.getLevel() == level) {
            band.add(
                day(e.getTargetDay()).getFirstMillisecond(),
                e.getPredicted(),
                i.getLower(),
                i.getUpper());
          }
        }
      }
      if (!band.isEmpty()) {
        bands.addSeries(band);
      }
    }
    if (bands.getSeriesCount() == 0) {
      return;
    }
    DeviationRenderer renderer = new DeviationRenderer(true, false);
    renderer.setAlpha(1f);
    for (int k = 0; k < bands.getSeriesCount(); k++) {
      Color fill = k == 0 ? new Color(0xF6, 0xD5, 0xD5) : new Color(0xEC, 0xA9, 0xA9);
      renderer.setSeriesFillPaint(k, fill);
      renderer.setSeriesPaint(k, fill);
    }
    XYPlot plot = chart.getXYPlot();
    plot.setDataset(1, bands); // drawn before dataset 0: behind the lines
    plot.setRenderer(1, renderer);
    // the 95% band first, the 80% band over it (by default an XY plot draws its last series first)
    plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD);
  }

  private static JFreeChart errors(String series, List<Evaluation> live) {
    TimeSeries model = new TimeSeries("|model error|");
    TimeSeries persistence = new TimeSeries("|persistence error|");
    for (Evaluation e : live) {
      model.addOrUpdate(day(e.getTargetDay()), Math.abs(e.getError()));
      if (e.getPersistenceError() != null) {
        persistence.addOrUpdate(day(e.getTargetDay()), Math.abs(e.getPersistenceError()));
      }
    }
    return styled(
        ChartFactory.createTimeSeriesChart(
            series + ": absolute error over time", "day", "error", collection(model, persistence)),
        RED,
        GREY);
  }

  private static JFreeChart versions(String series, List<Forecast> forecasts, LocalDate from) {
    TimeSeries version = new TimeSeries("model version");
    Map<LocalDate, Long> byDay = new TreeMap<>();
    forecasts.stream()
        .filter(f -> f.getSeriesId().equals(series) && !f.getBaseDay().isBefore(from.minusDays(1)))
        .forEach(f -> byDay.merge(f.getBaseDay(), f.getModelVersion(), Math::max));
    byDay.forEach((d, v) -> version.addOrUpdate(day(d), v));
    JFreeChart chart =
        styled(
            ChartFactory.createTimeSeriesChart(
                series + ": model version in service (by base day)",
                "day",
                "version",
                collection(version)),
            BLUE);
    NumberAxis axis = (NumberAxis) chart.getXYPlot().getRangeAxis();
    axis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
    axis.setRange(0, byDay.values().stream().mapToLong(Long::longValue).max().orElse(1) + 1);
    return chart;
  }

  private static TimeSeriesCollection collection(TimeSeries... series) {
    TimeSeriesCollection c = new TimeSeriesCollection();
    for (TimeSeries s : series) {
      c.addSeries(s);
    }
    return c;
  }

  private static final Color BLACK = Color.BLACK;
  private static final Color RED = new Color(0xD6, 0x27, 0x28);
  private static final Color GREY = new Color(0x99, 0x99, 0x99);
  private static final Color BLUE = new Color(0x1F, 0x77, 0xB4);

  /** The model is red wherever it appears, persistence grey, the actual black. */
  private static JFreeChart styled(JFreeChart chart, Color... colors) {
    XYPlot plot = chart.getXYPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    plot.setRangeGridlinePaint(new Color(0xDD, 0xDD, 0xDD));
    for (int i = 0; i < colors.length; i++) {
      plot.getRenderer().setSeriesPaint(i, colors[i]);
    }
    return chart;
  }

  private static String img(JFreeChart chart) throws IOException {
    BufferedImage image = chart.createBufferedImage(1100, 340);
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    ImageIO.write(image, "png", png);
    return "<img alt=\""
        + esc(chart.getTitle().getText())
        + "\" src=\"data:image/png;base64,"
        + Base64.getEncoder().encodeToString(png.toByteArray())
        + "\">";
  }

  private static Day day(LocalDate d) {
    return new Day(
        Date.from(d.atStartOfDay(ZoneOffset.UTC).toInstant()),
        TimeZone.getTimeZone("UTC"),
        Locale.ROOT);
  }

  private static String fmt(Double v) {
    return v == null || Double.isNaN(v) ? "-" : String.format("%.3f", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static void createParent(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
  }
}
