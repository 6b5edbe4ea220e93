namespace Agora.Temporal;

internal static class TemporalHosting
{
    /// The history recorder and its retention; call after the tenant stores are added.
    public static WebApplicationBuilder AddTemporal(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TemporalOptions>()
            .BindConfiguration(TemporalOptions.Section)
            .Validate(o => o.RetentionDays >= 0, "Agora:Temporal:RetentionDays must be 0 (keep everything) or more.")
            .Validate(o => o.RetentionInterval > TimeSpan.Zero, "Agora:Temporal:RetentionInterval must be positive.")
            .Validate(o => o.MaxInstances is > 0 and <= 100_000, "Agora:Temporal:MaxInstances must be between 1 and 100000.")
            .ValidateOnStart();
        builder.Services.AddHostedService<HistoryRecorder>();
        builder.Services.AddHostedService<HistoryRetention>();
        builder.Services.AddHostedService<HistoryPartitions>();
        return builder;
    }
}
