namespace Agora.Geo;

/// An axis-aligned box in lon/lat degrees, as an R*Tree indexes it. Boxes never wrap the antimeridian: a box
/// that would is widened to the full longitude range instead, which stays correct for a prefilter.
internal readonly record struct Box(double MinLon, double MinLat, double MaxLon, double MaxLat)
{
    public static readonly Box World = new(-180, -90, 180, 90);

    public bool Intersects(Box other) =>
        MinLon <= other.MaxLon && other.MinLon <= MaxLon && MinLat <= other.MaxLat && other.MinLat <= MaxLat;

    public bool Contains(Box other) =>
        MinLon <= other.MinLon && other.MaxLon <= MaxLon && MinLat <= other.MinLat && other.MaxLat <= MaxLat;

    public bool Contains(double lon, double lat) => MinLon <= lon && lon <= MaxLon && MinLat <= lat && lat <= MaxLat;
}
