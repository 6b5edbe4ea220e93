namespace Agora.Security;

/// No secret in any log: OpenIddict writes every token it issues at Trace level, so its categories never log
/// below Debug, whatever the configuration asks. Levels at Debug or above are left as configured.
internal static class LogSafety
{
    private const string Category = "OpenIddict";

    public static void KeepTokensOutOfLogs(this IServiceCollection services) =>
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            for (var i = 0; i < options.Rules.Count; i++)
            {
                var rule = options.Rules[i];
                if (rule.CategoryName?.StartsWith(Category, StringComparison.Ordinal) == true && (rule.LogLevel ?? LogLevel.Trace) < LogLevel.Debug)
                {
                    options.Rules[i] = new LoggerFilterRule(rule.ProviderName, rule.CategoryName, LogLevel.Debug, rule.Filter);
                }
            }
            // A rule naming the category is more specific than any Default one, for each provider that has rules.
            foreach (var provider in options.Rules.Select(r => r.ProviderName).Append(null).Distinct().ToList())
            {
                if (EffectiveLevel(options, provider) < LogLevel.Debug)
                {
                    options.Rules.Add(new LoggerFilterRule(provider, Category, LogLevel.Debug, null));
                }
            }
        });

    // The level that the rule selection of Microsoft.Extensions.Logging picks for OpenIddict's categories: the
    // provider's own rules if it has any, else the general ones; the longest matching category; the last one.
    private static LogLevel EffectiveLevel(LoggerFilterOptions options, string? provider)
    {
        var rules = options.Rules.Where(r => r.ProviderName == provider).ToList();
        if (rules.Count == 0)
        {
            rules = [.. options.Rules.Where(r => r.ProviderName is null)];
        }
        var match = rules.Where(r => r.CategoryName is null || Category.StartsWith(r.CategoryName, StringComparison.Ordinal) || r.CategoryName.StartsWith(Category, StringComparison.Ordinal))
            .OrderBy(r => r.CategoryName?.Length ?? 0).LastOrDefault();
        return match?.LogLevel ?? options.MinLevel;
    }
}
