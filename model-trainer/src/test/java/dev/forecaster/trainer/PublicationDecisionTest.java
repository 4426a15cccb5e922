package dev.forecaster.trainer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.forecaster.avro.ModelUpdate;
import dev.forecaster.model.Architecture;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When a challenger is published: {@link TrainingRun#decide}, without training anything. */
class PublicationDecisionTest {

  private static final Metrics PERSISTENCE = new Metrics(2.0, 2.5, 10, 9, Double.NaN, 100);
  private static final Metrics BETTER = new Metrics(1.8, 2.2, 9, 8, Double.NaN, 100);
  private static final Metrics WORSE = new Metrics(2.1, 2.6, 11, 10, Double.NaN, 100);

  private static final TrainingRun.Request PUBLISH =
      TrainingRun.Request.publish(
          WeatherSlice.spec("m", Architecture.GRU, 1), WeatherSlice.settings(1), null, null);

  /** A champion in service (its content does not matter to the decision, only that it exists). */
  private static final Optional<ModelUpdate> SERVING = Optional.of(new ModelUpdate());

  private static TrainingRun.ChampionComparison champion(double championMae, double challengerMae) {
    return new TrainingRun.ChampionComparison(3, 90, championMae, challengerMae);
  }

  @Test
  void aChallengerThatBeatsPersistenceAndTheChampionIsPublished() {
    var v = TrainingRun.decide(BETTER, PERSISTENCE, SERVING, champion(1.9, 1.8), PUBLISH);
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(v.why()).isEmpty();
  }

  @Test
  void notBeatingPersistenceKeepsItOutEvenAsTheFirstVersion() {
    var v = TrainingRun.decide(WORSE, PERSISTENCE, Optional.empty(), null, PUBLISH);
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    assertThat(v.why()).contains("2.1000 does not beat persistence 2.0000");
  }

  @Test
  void notBeatingTheChampionOnTheCommonWindowsKeepsTheChampion() {
    var v = TrainingRun.decide(BETTER, PERSISTENCE, SERVING, champion(1.7, 1.8), PUBLISH);
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.KEPT_CHAMPION);
    assertThat(v.why()).contains("kept v3", "90 common test windows");
  }

  @Test
  void aChallengerOnlyAsGoodAsTheChampionKeepsTheChampion() {
    var v = TrainingRun.decide(BETTER, PERSISTENCE, SERVING, champion(1.8, 1.8), PUBLISH);
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.KEPT_CHAMPION);
    assertThat(v.why()).contains("kept v3", "1.8000 is not beaten by 1.8000");
  }

  @Test
  void asGoodAsPersistenceReplacesOnlyAChampionItBeats() {
    // a first version published although worse than persistence: persistence's own forecast (the
    // search's choice on a short history) replaces it
    var v = TrainingRun.decide(PERSISTENCE, PERSISTENCE, SERVING, champion(3.0, 2.0), PUBLISH);
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(v.why())
        .isEqualTo(" (as good as persistence, and better than v3 on the common windows)");
    // against a champion as good or better, one that cannot be scored, or none, a tie with
    // persistence is not published, as before
    assertThat(
            TrainingRun.decide(PERSISTENCE, PERSISTENCE, SERVING, champion(2.0, 2.0), PUBLISH)
                .decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    assertThat(TrainingRun.decide(PERSISTENCE, PERSISTENCE, SERVING, null, PUBLISH).decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    assertThat(
            TrainingRun.decide(PERSISTENCE, PERSISTENCE, SERVING, champion(1.9, 2.0), PUBLISH)
                .decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    assertThat(
            TrainingRun.decide(PERSISTENCE, PERSISTENCE, Optional.empty(), null, PUBLISH)
                .decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
    // worse than persistence is never published unforced, whatever the champion
    assertThat(
            TrainingRun.decide(WORSE, PERSISTENCE, SERVING, champion(3.0, 2.1), PUBLISH).decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
  }

  @Test
  void publishFirstForcesOnlyTheFirstVersion() {
    TrainingRun.Request first = PUBLISH.publishingTheFirstVersion(true);
    assertThat(TrainingRun.decide(WORSE, PERSISTENCE, Optional.empty(), null, first).decision())
        .isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(TrainingRun.decide(WORSE, PERSISTENCE, SERVING, null, first).decision())
        .isEqualTo(TrainingRun.Decision.WORSE_THAN_PERSISTENCE);
  }

  @Test
  void forceAlwaysPublishesAndSaysItIsNotBetter() {
    var v = TrainingRun.decide(WORSE, PERSISTENCE, SERVING, champion(1.7, 2.1), PUBLISH.forced());
    assertThat(v.decision()).isEqualTo(TrainingRun.Decision.PUBLISHED);
    assertThat(v.why()).contains("forced");
  }
}
