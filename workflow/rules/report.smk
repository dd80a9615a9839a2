# TEMPORARY placeholder written by the workflow engineer so the workflow can be tested before the real
# report rule exists; the report engineer's workflow/rules/report.smk replaces this file.


rule report:
    input:
        summary=f"{TABLES}/summary.csv",
    output:
        "reports/report.html",
    log:
        "logs/report.log",
    conda:
        CONDA_ENV
    shell:
        "(echo '<html><body><pre>'; cat {input.summary:q}; echo '</pre></body></html>') > {output:q} 2> {log:q}"
