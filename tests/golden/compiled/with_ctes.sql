-- a model that has its own CTEs
with __stockx_cte__eph_base as (
select * from main.raw
),
__stockx_cte__eph_mid as (
select id, concat_ws('|', case when size <> '' then 'size:' || size end, case when colour <> '' then 'colour:' || colour end) as v from __stockx_cte__eph_base
),
picked as (select * from __stockx_cte__eph_mid where id = 1)
select * from picked
