using Agora.Security;

namespace Agora.Market;

internal static class MarketHosting
{
    /// The market's store and agreement service; they are used in Secured mode only, where the market API is mapped.
    public static WebApplicationBuilder AddMarket(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MarketOptions>().BindConfiguration(MarketOptions.Section);
        builder.Services.AddSingleton<MarketStore>();
        builder.Services.AddSingleton<Agreements>();
        var security = builder.Configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();
        if (security.Secured)
        {
            builder.Services.AddSingleton<MarketNotifications>();
            builder.Services.AddSingleton<Notifications.DeliveryVeto>(sp => sp.GetRequiredService<MarketNotifications>().Veto);
        }
        return builder;
    }

    /// Holds every read of a key issued for an agreement to that agreement; after the security gate, in Secured mode.
    public static WebApplication UseMarket(this WebApplication app)
    {
        if (app.IsSecured())
        {
            app.UseMiddleware<MarketGate>();
        }
        return app;
    }
}
