package dev.amalgam.policy;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What whoever distributes or deploys a model must do because of its licenses.
 *
 * @param licenses catalogue ids whose license texts must ship with the model (LICENSE files)
 * @param attributions texts to display with products built with the model ("Built with Llama")
 * @param notices lines for the NOTICE file
 * @param namePrefix the model's name must begin with this
 * @param flowDown use restrictions that every downstream user must be bound by
 * @param userCap the smallest monthly-active-user cap among the licenses
 * @param excludedRegions regions whose residents/companies get no license
 */
public record Obligations(List<String> licenses, List<String> attributions, List<String> notices,
                          Optional<String> namePrefix, List<String> flowDown, OptionalLong userCap,
                          List<String> excludedRegions) {
    public static final Obligations NONE = new Obligations(List.of(), List.of(), List.of(), Optional.empty(),
            List.of(), OptionalLong.empty(), List.of());

    public Obligations {
        licenses = List.copyOf(licenses);
        attributions = List.copyOf(attributions);
        notices = List.copyOf(notices);
        flowDown = List.copyOf(flowDown);
        excludedRegions = List.copyOf(excludedRegions);
    }
}
