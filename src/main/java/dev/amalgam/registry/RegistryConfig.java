package dev.amalgam.registry;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.ConfigProvider;

/** The server's {@link ServerSettings}, as resolved by Quarkus configuration. */
@ApplicationScoped
public class RegistryConfig {
    private volatile ServerSettings settings;

    public ServerSettings settings() {
        ServerSettings s = settings;
        if (s == null) {
            var c = ConfigProvider.getConfig();
            boolean test = io.quarkus.runtime.LaunchMode.current() == io.quarkus.runtime.LaunchMode.TEST;
            s = ServerSettings.from(k -> c.getOptionalValue(k, String.class).orElse(null),
                    ServerSettings.urlKey(test));
            settings = s;
        }
        return s;
    }
}
