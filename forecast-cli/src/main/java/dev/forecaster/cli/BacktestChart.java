package dev.forecaster.cli;

import dev.forecaster.model.Sample;
import dev.forecaster.trainer.NetworkTrainer;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TimeZone;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.time.Day;
import org.jfree.data.time.TimeSeries;
import org.jfree.data.time.TimeSeriesCollection;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The backtest as a picture: actual vs predicted on the test part, and the loss curves. */
public final class BacktestChart {

  private static final int WIDTH = 1100;
  private static final int HEIGHT = 420;

  private BacktestChart() {}

  /**
   * Writes a PNG of two charts: the test part of the series with the most test windows (actual,
   * model, persistence), and the training and validation loss per epoch of each member; the first
   * alone where no member was trained (least squares or persistence served).
   */
  public static void write(
      Path file,
      String title,
      List<Sample> test,
      double[] predicted,
      List<NetworkTrainer.MemberRun> members)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    String series = mostTestedSeries(test);
    TimeSeries actual = new TimeSeries("actual");
    TimeSeries model = new TimeSeries("model");
    TimeSeries persistence = new TimeSeries("persistence");
    for (int i = 0; i < test.size(); i++) {
      Sample s = test.get(i);
      if (s.seriesId().equals(series)) {
        Day day =
            new Day(
                Date.from(s.targetDay().atStartOfDay(ZoneOffset.UTC).toInstant()),
                TimeZone.getTimeZone("UTC"),
                Locale.ROOT);
        actual.addOrUpdate(day, s.actual());
        model.addOrUpdate(day, predicted[i]);
        persistence.addOrUpdate(day, s.baseValue());
      }
    }
    TimeSeriesCollection lines = new TimeSeriesCollection();
    lines.addSeries(actual);
    lines.addSeries(model);
    lines.addSeries(persistence);
    JFreeChart forecast =
        ChartFactory.createTimeSeriesChart(
            title + " — test part, " + series, "target day", "value", lines, true, false, false);
    XYPlot plot = forecast.getXYPlot();
    plot.getRenderer().setSeriesPaint(0, Color.BLACK);
    plot.getRenderer().setSeriesPaint(1, new Color(0xD6, 0x27, 0x28));
    plot.getRenderer().setSeriesPaint(2, new Color(0xAA, 0xAA, 0xAA));
    plot.setBackgroundPaint(Color.WHITE);

    XYSeriesCollection losses = new XYSeriesCollection();
    for (int m = 0; m < members.size(); m++) {
      NetworkTrainer.MemberRun run = members.get(m);
      XYSeries train = new XYSeries("member " + (m + 1) + " training");
      XYSeries validation = new XYSeries("member " + (m + 1) + " validation");
      for (int e = 0; e < run.trainLoss().size(); e++) {
        train.add(e + 1, run.trainLoss().get(e));
        validation.add(e + 1, run.validationLoss().get(e));
      }
      losses.addSeries(train);
      losses.addSeries(validation);
    }
    JFreeChart loss =
        ChartFactory.createXYLineChart("loss per epoch (scaled target)", "epoch", "loss", losses);
    loss.getXYPlot().setBackgroundPaint(Color.WHITE);
    LogAxis logLoss = new LogAxis("loss (log scale)"); // the first epochs would flatten the rest
    logLoss.setSmallestValue(1e-6);
    loss.getXYPlot().setRangeAxis(logLoss);
    loss.getLegend().setVisible(members.size() <= 3);

    boolean trained = members.stream().anyMatch(r -> !r.trainLoss().isEmpty());
    BufferedImage image =
        new BufferedImage(WIDTH, (trained ? 2 : 1) * HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      forecast.draw(g, new Rectangle2D.Double(0, 0, WIDTH, HEIGHT));
      if (trained) {
        loss.draw(g, new Rectangle2D.Double(0, HEIGHT, WIDTH, HEIGHT));
      }
    } finally {
      g.dispose();
    }
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    ImageIO.write(image, "png", file.toFile());
  }

  private static String mostTestedSeries(List<Sample> test) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    test.forEach(s -> counts.merge(s.seriesId(), 1, Integer::sum));
    return counts.entrySet().stream()
        .max(Comparator.comparingInt(Map.Entry::getValue))
        .orElseThrow()
        .getKey();
  }
}
