with __stockx_cte__eph_base as (
select * from main.raw
),
__stockx_cte__eph_mid as (
select id, concat_ws('|', case when size <> '' then 'size:' || size end, case when colour <> '' then 'colour:' || colour end) as v from __stockx_cte__eph_base
)
select id, v from __stockx_cte__eph_mid
where id > (select max(id) from main.incr)
