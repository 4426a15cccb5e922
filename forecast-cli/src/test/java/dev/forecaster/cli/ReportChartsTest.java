package dev.forecaster.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.Evaluation;
import dev.forecaster.avro.IntervalHit;
import java.awt.image.BufferedImage;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.IntervalXYDataset;
import org.junit.jupiter.api.Test;

class ReportChartsTest {

  @Test
  void theLiveChartShadesEachForecastsIntervalsBehindItsLines() {
    List<Evaluation> live = new ArrayList<>();
    for (int d = 0; d < 5; d++) {
      double predicted = 10 + d;
      live.add(
          Evaluation.newBuilder()
              .setForecastId("f" + d)
              .setSeriesId("Seattle")
              .setTargetDay(LocalDate.of(2015, 12, 12).plusDays(d))
              .setTarget("temp_max")
              .setPredicted(predicted)
              .setActual(predicted + 1)
              .setError(-1.0)
              .setModelName("weather")
              .setModelVersion(2)
              .setIntervals(
                  List.of(
                      new IntervalHit(0.8, predicted - 2, predicted + 2, true),
                      new IntervalHit(0.95, predicted - 4, predicted + 4, true)))
              .build());
    }

    JFreeChart chart = Report.actualVsForecast("Seattle", live);

    IntervalXYDataset bands = (IntervalXYDataset) chart.getXYPlot().getDataset(1);
    assertThat(bands.getSeriesCount()).isEqualTo(2);
    assertThat(bands.getSeriesKey(0)).isEqualTo("95% interval");
    assertThat(bands.getSeriesKey(1)).isEqualTo("80% interval");
    assertThat(bands.getItemCount(1)).isEqualTo(5);
    assertThat(bands.getStartYValue(1, 3)).isEqualTo(11.0);
    assertThat(bands.getEndYValue(0, 3)).isEqualTo(17.0);
    assertThat(chart.getXYPlot().getDataset(0).getSeriesCount()).isEqualTo(3);
    // both bands show: the narrower 80% band is drawn over the 95% one, not hidden under it
    BufferedImage image = chart.createBufferedImage(1100, 340);
    assertThat(pixelsOf(image, 0xECA9A9)).as("80% band").isGreaterThan(1000);
    assertThat(pixelsOf(image, 0xF6D5D5)).as("95% band").isGreaterThan(1000);
  }

  private static int pixelsOf(BufferedImage image, int rgb) {
    int n = 0;
    for (int x = 0; x < image.getWidth(); x++) {
      for (int y = 0; y < image.getHeight(); y++) {
        n += (image.getRGB(x, y) & 0xFFFFFF) == rgb ? 1 : 0;
      }
    }
    return n;
  }

  @Test
  void withoutIntervalsThereIsNoBand() {
    Evaluation e =
        Evaluation.newBuilder()
            .setForecastId("f")
            .setSeriesId("Seattle")
            .setTargetDay(LocalDate.of(2015, 12, 12))
            .setTarget("temp_max")
            .setPredicted(10)
            .setActual(11)
            .setError(-1.0)
            .setModelName("weather")
            .setModelVersion(1)
            .build();

    assertThat(Report.actualVsForecast("Seattle", List.of(e)).getXYPlot().getDataset(1)).isNull();
  }
}
