# Perl TAP: report_html() over a window with a real workload: several
# statements, one of them a slow outlier, and a regression.  The page
# parses (xmllint, as XML, which is stricter than HTML), refers to nothing
# outside itself, carries its sections, escapes what comes from the
# database (table and index names with <, &, quotes, spaces, semicolons),
# leaves dbopt's own statements out unless asked, and, loaded in headless
# Chromium at 1600 px by test/browser/check_report.js (the DevTools
# protocol over a pipe, from Node), shows no errors and charts whose lines
# are drawn, with several labelled ticks, where the outlier's chart does
# not flatten the others.  The screenshot is saved in the log directory
# (tmp_check/log/007_report_html_1600.png), and the page beside it.  The test command installs
# xmllint, Chromium and Node; without them those parts are skipped.
use strict;
use warnings;
use Compress::Zlib;
use File::Basename;
use File::Copy;
use File::Spec;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('report');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'dbopt, pg_stat_statements'\ndbopt.enable_worker = off\npg_stat_statements.track = all");
$node->start;
$node->safe_psql('postgres', q{
	CREATE EXTENSION dbopt CASCADE;
	CREATE TABLE "http://example.com/<b>" (id int PRIMARY KEY, v text);
	INSERT INTO "http://example.com/<b>" SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
	CREATE TABLE public."we<ird> & 'co'; x" (k int, v text);
	CREATE INDEX "idx <&> 'q'; y" ON public."we<ird> & 'co'; x" (k);
	INSERT INTO public."we<ird> & 'co'; x" SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
	ANALYZE;
});

# Five snapshots; pg_sleep gets five times slower in the second half, and
# one statement takes 400 ms each time: a hundred times the others.
my @snaps;
push @snaps, $node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
for my $ms (1, 1, 5, 5)
{
	my $sql = join '', map { "SELECT pg_sleep($ms / 1000.0); SELECT v FROM \"http://example.com/<b>\" WHERE id = $_;\n" } 1 .. 30;
	$sql .= join '', map { "SET enable_indexscan = off; SET enable_bitmapscan = off; SELECT count(*) FROM public.\"we<ird> & 'co'; x\" WHERE k < $_; RESET ALL;\n" } 1 .. 10;
	$sql .= "SELECT v FROM public.\"we<ird> & 'co'; x\" WHERE k = 7;\n";
	$sql .= "UPDATE public.\"we<ird> & 'co'; x\" SET v = v WHERE k <= 100;\n";
	$sql .= "SELECT pg_sleep(0.4) AS outlier;\n";
	# A wrapper: with track = all its time is counted again in what it ran.
	$sql .= "DO \$\$BEGIN PERFORM count(*) FROM pg_sleep(0.03); END\$\$;\n";
	$node->safe_psql('postgres', $sql);
	push @snaps, $node->safe_psql('postgres', 'SELECT dbopt.take_snapshot()');
}

my $file = File::Spec->rel2abs($node->basedir . '/report.html');
command_ok([ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-o', $file,
		'-c', "SELECT dbopt.report_html($snaps[0], $snaps[-1])" ],
	'psql -Atc writes the report to a file');
my $html = slurp_file($file);
# Kept beside the screenshot, for a look after the run.
copy($file, "$PostgreSQL::Test::Utils::log_path/007_report_html.html");

like($html, qr/\A<!DOCTYPE html>\n<html lang="en">/, 'it is an HTML document');
like($html, qr{</body></html>\n*\z}, 'and it is complete');
unlike($html, qr{https?://}i, 'no http:// or https:// reference anywhere');
unlike($html, qr/<script|<link|\burl\(|\@import|<img/i, 'no scripts, linked styles, fonts or images');
my $charts = () = $html =~ /<svg /g;
ok($charts >= 3 + 4, "three server charts and one chart per top statement ($charts SVGs)");
like($html, qr/<polyline [^>]*points="[\d.]+,[\d.]+ [\d.]+,[\d.]+/, 'with lines of at least two points');
is_deeply([ $html =~ m{<h2>([^<]*)</h2>}g ],
	[ 'Summary', 'Charts', 'Top statements by total time', 'Regressions', 'Tables: scans and I/O',
	  'Indexes: scans and I/O', 'WAL', 'Findings new and resolved in the window', 'Health now' ],
	'the sections, in order');
like($html, qr{&quot;http&#58;//example\.com/&lt;b&gt;&quot;}, 'text from the database is escaped');
my ($regressions) = $html =~ m{<h2>Regressions</h2>(.*?)<h2>}s;
like($regressions, qr{<td class="n">[\d.]+</td><td class="n">[\d.e-]+</td><td><code>SELECT pg_sleep\(\$1 / \$2\)</code>},
	'the slower statement is among the regressions, with its ratio and p-value');
my ($tables) = $html =~ m{<h2>Tables: scans and I/O</h2>(.*?)<h2>}s;
like($tables, qr{<tr><td>public\.&quot;we&lt;ird&gt; &amp; &#39;co&#39;; x&quot;</td><td class="n">(4[0-9])</td>},
	'the tables section shows a table with <, &, quotes, a space and a semicolon in its name, escaped, with its sequential scans');
# The cluster's superuser is the OS user, dbopt: "$user" puts that table
# in schema dbopt, where it is still not one of dbopt's own.
like($tables, qr{<tr><td>dbopt\.&quot;http&#58;//example\.com/&lt;b&gt;&quot;</td>},
	"a user's table in schema dbopt is shown: only the extension's own tables are left out");
unlike($tables, qr{<td>dbopt\.snapshot}, 'and those are');
my ($indexes) = $html =~ m{<h2>Indexes: scans and I/O</h2>(.*?)<h2>}s;
like($indexes, qr{<td>public\.&quot;idx &lt;&amp;&gt; &#39;q&#39;; y&quot;</td><td>public\.&quot;we&lt;ird&gt; &amp; &#39;co&#39;; x&quot;</td><td class="n">[1-9]},
	'and the indexes section such an index, with its table and scans');
like($html, qr{<dt>WAL records</dt><dd>[1-9]\d* }, 'WAL over the window, from pg_stat_wal');
like($html, qr{No finding was recorded as new or resolved in this window}, 'no findings history: the empty state says so');
like($html, qr{<dt>From</dt><dd>\d{4}-\d\d-\d\d \d\d&#58;\d\d&#58;\d\d</dd>}, 'times to the second');
like($html, qr{<dt>Time zone</dt><dd>[^<]+</dd>}, 'with the time zone named once');
like($html, qr{<dt>Execution time</dt><dd>\d+(\.\d)? s</dd>}, 'durations in human units');
my ($top) = $html =~ m{<h2>Top statements by total time</h2>(.*?)<h2>}s;
unlike($top, qr{dbopt\.|pg_stat_statements}, "dbopt's own statements are left out by default");
like($html, qr{<dt>dbopt&#39;s own statements \(excluded\)</dt><dd>[1-9]\d* statements?, }, 'and the page says how many');
unlike($top, qr{<code>DO }, 'a DO block is left out of the top statements under track = all');
like($top, qr{<code>SELECT count\(\*\) FROM pg_sleep\(\$1\)</code>}, 'and the statement it ran is listed');
like($html, qr{<dt>DO blocks and CALLs \(left out\)</dt><dd>1: }, 'and the page says so');
my $with = $node->safe_psql('postgres', "SELECT dbopt.report_html($snaps[0], $snaps[-1], true)");
my ($top_with) = $with =~ m{<h2>Top statements by total time</h2>(.*?)<h2>}s;
like($top_with, qr{SELECT dbopt\.take_snapshot\(\)}, 'include_dbopt => true shows them');

my ($rc, $out, $err) = $node->psql('postgres', "SELECT dbopt.report_html($snaps[-1], $snaps[0])");
like($err, qr/invalid snapshot window/, 'a reversed window is refused');
($rc, $out, $err) = $node->psql('postgres', "SELECT dbopt.report_html($snaps[0], 999999)");
like($err, qr/does not exist/, 'an unknown snapshot is refused');

SKIP:
{
	skip 'xmllint is not installed', 1 unless system('sh', '-c', 'command -v xmllint >/dev/null') == 0;
	command_ok([ 'xmllint', '--noout', $file ], 'the page parses as well-formed XML');
}

# PNG: width, height, and the RGB(A) rows after undoing the filters.
sub png_pixels
{
	my ($path) = @_;
	my $png = slurp_file($path);
	return unless substr($png, 0, 8) eq "\x89PNG\r\n\x1a\n";
	my ($pos, $idat, $w, $h, $depth, $type) = (8, '');
	while ($pos < length $png)
	{
		my ($len, $kind) = unpack('N a4', substr($png, $pos, 8));
		my $data = substr($png, $pos + 8, $len);
		($w, $h, $depth, $type) = unpack('N N C C', $data) if $kind eq 'IHDR';
		$idat .= $data if $kind eq 'IDAT';
		$pos += 12 + $len;
	}
	return unless $depth == 8 && ($type == 2 || $type == 6);
	my $bpp = $type == 6 ? 4 : 3;
	my $raw = uncompress($idat);
	my $stride = $w * $bpp;
	my @prev = (0) x $stride;
	my @rows;
	for my $y (0 .. $h - 1)
	{
		my $off = $y * ($stride + 1);
		my $f = ord(substr($raw, $off, 1));
		my @cur = unpack('C*', substr($raw, $off + 1, $stride));
		for my $i (0 .. $stride - 1)
		{
			my $a = $i >= $bpp ? $cur[ $i - $bpp ] : 0;
			my $b = $prev[$i];
			my $c = $i >= $bpp ? $prev[ $i - $bpp ] : 0;
			my $p;
			if    ($f == 0) { $p = 0 }
			elsif ($f == 1) { $p = $a }
			elsif ($f == 2) { $p = $b }
			elsif ($f == 3) { $p = ($a + $b) >> 1 }
			else
			{
				my $e = $a + $b - $c;
				my ($pa, $pb, $pc) = (abs($e - $a), abs($e - $b), abs($e - $c));
				$p = ($pa <= $pb && $pa <= $pc) ? $a : ($pb <= $pc ? $b : $c);
			}
			$cur[$i] = ($cur[$i] + $p) & 255;
		}
		push @rows, [@cur];
		@prev = @cur;
	}
	return ($w, $h, $bpp, \@rows);
}

# The page as a reader sees it: test/browser/check_report.js loads it in
# headless Chromium at 1600 px, measures every chart and takes a
# screenshot.  Chromium runs there with --no-sandbox (see the script).
SKIP:
{
	my ($chromium) = grep { system('sh', '-c', "command -v $_ >/dev/null") == 0 } qw(chromium chromium-browser);
	skip 'Chromium is not installed', 15 unless $chromium;
	skip 'Node is not installed', 15 unless system('sh', '-c', 'command -v node >/dev/null') == 0;
	my $script = File::Spec->rel2abs(dirname(__FILE__) . '/../test/browser/check_report.js');
	my $shot = "$PostgreSQL::Test::Utils::log_path/007_report_html_1600.png";
	my $profile = $node->basedir . '/chromium';
	local $ENV{HOME} = $node->basedir;
	my ($json, $stderr) = ('', '');
	my $ran = eval {
		IPC::Run::run([ 'node', $script, $chromium, $file, $shot, $profile, 1600 ],
			'>', \$json, '2>', \$stderr, IPC::Run::timeout(180));
	};
	ok($ran, 'headless Chromium loads the page') or diag($stderr . ($@ // ''));
	my $r = eval { decode_json($json) } // { charts => [] };
	is_deeply([ @{ $r->{consoleErrors} // ['nothing read'] }, @{ $r->{pageErrors} // [] }, @{ $r->{logErrors} // [] } ], [],
		'no console errors, page errors or failed loads');
	my @charts = @{ $r->{charts} };
	my @stmt = grep { $_->{title} =~ /^#\d+ queryid/ } @charts;
	ok(@charts == 3 + @stmt && @stmt >= 4, scalar(@charts) . ' charts, ' . scalar(@stmt) . ' of them one per statement');
	my @undrawn = grep {
		my $c = $_;
		!grep { $_->{visible} && $_->{data} > 0 && $_->{width} > 0.25 * $c->{plot}{width} } @{ $c->{lines} }
	} @charts;
	is_deeply([ map { $_->{title} } @undrawn ], [],
		'every chart has a visible line with points, a quarter of its width or more');
	my @few_ticks = grep { @{ $_->{xLabels} } < 3 || @{ $_->{yLabels} } < 3 } @charts;
	is_deeply([ map { "$_->{title}: @{$_->{xLabels}} / @{$_->{yLabels}}" } @few_ticks ], [],
		'every chart has three labelled ticks or more on each axis');
	is_deeply([ map { $_->{title} } grep { $_->{labelOverlaps} || $_->{textsOutside} } @charts ], [],
		'no tick labels overlap, and no text leaves its chart');
	my ($outlier) = grep { $_->{caption} =~ /pg_sleep\(\$1\) AS outlier/ } @stmt;
	ok($outlier, 'the slow outlier has a chart of its own');
	like($outlier ? $outlier->{yLabels}[-1] : '', qr/^\d+ ms$/, "its scale is in ms, up to the outlier's time");
	# The top of each statement's line, as a share of its plot's height: a
	# shared scale would keep the others near zero under the outlier.
	my @flat;
	for my $c (@stmt)
	{
		my ($hi) = sort { $a <=> $b } map { $_->{top} } grep { $_->{data} } @{ $c->{lines} };
		my $share = defined $hi ? ($c->{plot}{bottom} - $hi) / $c->{plot}{height} : 0;
		push @flat, sprintf('%s at %.0f%%', $c->{title}, 100 * $share) if $share < 0.4;
	}
	is_deeply(\@flat, [], "each statement's line reaches 40% of its chart's height or more: the outlier flattens none");
	my @pg_sleep = grep { $_->{caption} =~ m{pg_sleep\(\$1 / \$2\)} } @stmt;
	ok(@pg_sleep == 1, 'the 1 ms statement has its own chart too');
	ok(($r->{docWidth} // 1e9) <= 1600, 'the page does not scroll sideways at 1600 px (' . ($r->{docWidth} // '?') . ' px)');
	my ($right) = sort { $b <=> $a } map { $_->{box}{right} } @charts;
	my %rows;
	$rows{ int($_->{box}{top}) }++ for @charts;
	my ($per_row) = sort { $b <=> $a } values %rows;
	ok(($right // 0) > 0.9 * 1600 && ($per_row // 0) >= 3,
		sprintf('the charts use the width: %d per row, up to %.0f px', $per_row // 0, $right // 0));
	ok(@charts && !grep({ $_->{captionOverflows} } @charts), 'legends wrap inside their charts');
	my ($w, $h, $bpp, $rows) = -s $shot ? png_pixels($shot) : ();
	$rows //= [];
	my (%colours, $ink, $blue);
	for my $row (@$rows)
	{
		for (my $i = 0; $i < @$row; $i += $bpp)
		{
			my ($r, $g, $b) = @$row[ $i .. $i + 2 ];
			$colours{"$r,$g,$b"}++;
			$ink++ if $r + $g + $b < 600;
			# the first series colour, #2563eb, drawn by the charts
			$blue++ if abs($r - 0x25) < 24 && abs($g - 0x63) < 24 && abs($b - 0xeb) < 24;
		}
	}
	my $pixels = ($w // 0) * ($h // 0);
	ok($pixels && $w == 1600 && keys(%colours) > 20 && $ink / $pixels > 0.01,
		sprintf('the screenshot is 1600 px wide and not blank (%d colours, %.1f%% ink)',
			scalar keys %colours, 100 * ($ink // 0) / ($pixels || 1)));
	ok(($blue // 0) > 100, "the charts' lines are drawn in it (" . ($blue // 0) . ' blue pixels)');
}

done_testing();
