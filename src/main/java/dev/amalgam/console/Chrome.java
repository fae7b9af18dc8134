package dev.amalgam.console;

import dev.amalgam.registry.Role;

/** What every console page's frame shows: title, the signed-in principal, its CSRF token and one-time message, and which sections its roles open. */
public record Chrome(String title, String section, String user, String csrf, String flash,
                     boolean submitter, boolean reviewer, boolean deployer, boolean admin) {

    static Chrome of(ConsoleUser u, String title, String section) {
        if (!u.signedIn()) return new Chrome(title, section, null, "", null, false, false, false, false);
        return new Chrome(title, section, u.name(), u.csrf(), u.takeFlash(), u.may(Role.SUBMITTER),
                u.may(Role.REVIEWER), u.may(Role.DEPLOYER), u.may(Role.ADMIN));
    }
}
