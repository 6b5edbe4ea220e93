namespace Agora.Notifications;

internal static class NotificationHosting
{
    /// The notification dispatcher; call after the tenant stores are added, so that it starts after them.
    public static WebApplicationBuilder AddNotifications(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<NotificationOptions>()
            .BindConfiguration(NotificationOptions.Section)
            .Validate(o => o.Timeout > TimeSpan.Zero, "Agora:Notifications:Timeout must be positive.")
            .Validate(o => o.MaxConcurrency > 0, "Agora:Notifications:MaxConcurrency must be positive.")
            .Validate(o => o.MinBackoff > TimeSpan.Zero && o.MaxBackoff >= o.MinBackoff, "Agora:Notifications:MinBackoff must be positive and at most MaxBackoff.")
            .ValidateOnStart();
        builder.Services.AddHttpClient(HttpNotifier.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            // Each attempt has its own timeout; a redirect is the receiver's failure to answer, not a new target.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) });
        builder.Services.AddSingleton<HttpNotifier>();
        builder.Services.AddSingleton<MqttNotifier>();
        builder.Services.AddSingleton<NotificationDispatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NotificationDispatcher>());
        return builder;
    }
}
