using System.Globalization;
using System.Text.RegularExpressions;

namespace Agora.Temporal;

/// An ISO 8601 duration (PnYnMnWnDTnHnMnS), kept in calendar parts: an aggregation period of P1M is a
/// calendar month (28 to 31 days), not 30 days, so periods are laid out by adding the parts to a start.
internal sealed partial record IsoDuration(int Years, int Months, int Days, TimeSpan Time)
{
    public bool IsZero => Years == 0 && Months == 0 && Days == 0 && Time == TimeSpan.Zero;

    public static bool TryParse(string text, out IsoDuration duration)
    {
        duration = new IsoDuration(0, 0, 0, TimeSpan.Zero);
        var m = Pattern().Match(text);
        if (!m.Success || text is "P" or "PT" || text.EndsWith('T'))
        {
            return false;
        }
        try
        {
            var weeks = Whole(m, "w");
            duration = new IsoDuration(
                Whole(m, "y"),
                Whole(m, "mo"),
                checked(Whole(m, "d") + 7 * weeks),
                TimeSpan.FromHours(Part(m, "h")) + TimeSpan.FromMinutes(Part(m, "mi")) + TimeSpan.FromSeconds(Part(m, "s")));
            return true;
        }
        catch (Exception e) when (e is OverflowException or ArgumentException)
        {
            return false;
        }
    }

    public DateTimeOffset AddTo(DateTimeOffset start) =>
        start.AddYears(Years).AddMonths(Months).AddDays(Days).Add(Time);

    private static int Whole(Match m, string group) =>
        m.Groups[group].Success ? int.Parse(m.Groups[group].Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    private static double Part(Match m, string group) =>
        m.Groups[group].Success ? double.Parse(m.Groups[group].Value.Replace(',', '.'), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture) : 0;

    [GeneratedRegex(@"^P(?:(?<y>\d{1,4})Y)?(?:(?<mo>\d{1,5})M)?(?:(?<w>\d{1,5})W)?(?:(?<d>\d{1,6})D)?(?:T(?:(?<h>\d{1,7}(?:[.,]\d+)?)H)?(?:(?<mi>\d{1,9}(?:[.,]\d+)?)M)?(?:(?<s>\d{1,10}(?:[.,]\d+)?)S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
